"""Synthetic LiteLLM StandardLoggingPayload JSONL, any size, deterministic by seed.

Every line has the keys and nesting of the payloads litellm 1.109.1 recorded in
``tests/fixtures/logs/litellm/slp_router_*.json`` (``metadata``, ``hidden_params``,
``model_map_information``, ``error_information``, ``request_tags``, short ``messages`` and a
``response``), filled with a plausible month of coding-assistant traffic:

* 10 models on 6 providers, chosen per task (``task:<name>`` tags; some requests carry the task
  in ``metadata.requester_metadata`` instead, some have none);
* retries (same model, other deployment) and fallbacks (next model) after 429 / 5xx / timeout
  failures, every attempt its own line, all attempts of a request sharing ``trace_id``;
* streamed calls (``completionStartTime`` = first token, before ``endTime``), LiteLLM
  response-cache hits (cost 0, tokens replayed), provider prompt caching
  (``prompt_tokens_details.cached_tokens``, Anthropic cache writes), reasoning tokens;
* teams, keys (SHA-256 hashes) and users in ``metadata``; costs from list prices;
* start times in order over the window, busier in working hours and on weekdays.

The traffic is described in :mod:`traffic`, the payload shapes in :mod:`slp`. Speed: each
(model, outcome) line is a template serialized once, so a line costs a few dozen random draws and
one ``str.join`` (stdlib only).

``--model-map compact`` drops the null entries of ``model_map_information.model_map_value``
(about 8 kB of the 13 kB line): the same keys that carry a value, for runs where the full size
would not fit on disk (10M full lines are about 130 GB). ``--model-map minimal`` keeps only the
keys and nested values RouteLedger's normaliser reads (:data:`slp.MINIMAL_KEYS`), about 1.5 kB
a line, as a gateway's own compact logger writes them: the same draws, so the same warehouse as
the full lines of that seed.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from datetime import UTC, datetime
from heapq import heappop, heappush
from pathlib import Path
from typing import Any, BinaryIO

from slp import Templates
from traffic import ATTEMPTS_PER_REQUEST, ERROR_MIX, FALLBACK, MODELS, TASKS

VERSION = 1  # bump when the output changes (here, slp.py, traffic.py): cached files are remade


def _table(weights: dict[Any, float], size: int = 1000) -> list[Any]:
    """A lookup table: ``table[int(random() * size)]`` draws by weight."""
    total = sum(weights.values())
    out: list[Any] = []
    for item, w in weights.items():
        out.extend([item] * round(size * w / total))
    return (out + [out[-1]] * size)[:size]


def _weekly_rate(t: float) -> float:
    """Relative request rate at epoch ``t`` (UTC): busy working hours, quiet weekends."""
    hour = (t % 86400) / 3600
    day = (int(t // 86400) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    daily = 0.35 + 1.3 * math.exp(-(((hour - 14.5) / 4.5) ** 2))
    return daily * (0.45 if day >= 5 else 1.0)


def generate(
    out: BinaryIO,
    rows: int,
    seed: int = 1,
    start: str = "2026-10-01",
    days: float = 30,
    tail: BinaryIO | None = None,
    tail_rows: int = 0,
    model_map: str = "full",
) -> None:
    """Write ``rows`` lines to ``out`` spread over ``days`` from ``start`` (UTC), then
    ``tail_rows`` more to ``tail``, continuing the same traffic past the window."""
    tp = Templates(model_map)
    rng = random.Random(seed)
    rnd, bits, exp = rng.random, rng.getrandbits, math.exp
    normal = [rng.gauss(0.0, 1.0) for _ in range(1 << 14)]  # drawn by index: cheaper than gauss()
    exp1 = [rng.expovariate(1.0) for _ in range(1 << 14)]
    models = {
        name: (
            provider,
            prices,
            reasoning,
            ttft,
            tps,
            p_fail,
            tp.line[(name, "success")],
            tp.line[(name, "failure")],
            tp.response[name],
            tp.hidden[name],
            tp.usage_anthropic if provider == "anthropic" else tp.usage_openai,
            (f'"dep-{name}-1"', f'"dep-{name}-2"'),
            f'"{name}"',
        )
        for name, _lm, provider, prices, reasoning, ttft, tps, p_fail in MODELS
    }
    tasks = {
        task: (
            f'"{group}"',
            p_med,
            c_med,
            f'["task:{task}", "env:prod"]',
            f'["task:{task}", "env:staging"]',
            f'{{"task": "{task}"}}',
        )
        for task, (_s, group, _w, p_med, c_med) in TASKS.items()
    }
    task_table = _table({task: spec[0] for task, spec in TASKS.items()})
    model_tables = {task: _table(spec[2]) for task, spec in TASKS.items()}
    error_tables = {p: _table(mix) for p, mix in ERROR_MIX.items()}
    week = [_weekly_rate(h * 3600.0) for h in range(24 * 7)]  # hours since a Thursday 00:00
    t = datetime.fromisoformat(start).replace(tzinfo=UTC).timestamp()
    # seconds between logical requests at rate 1: at rate w the gap is gap / w, and the steps
    # land in proportion to w, so ``rows`` attempts fill the window when gap = window * mean(w) / n
    hours = max(1, int(days * 24))
    mean_rate = sum(week[(int(t // 3600) + h) % 168] for h in range(hours)) / hours
    gap = days * 86400 * mean_rate / (rows / ATTEMPTS_PER_REQUEST)
    metadata, n_meta = tp.metadata, len(tp.metadata)
    cost_breakdown, hidden_fail, empty_error = tp.cost_breakdown, tp.hidden_fail, tp.empty_error

    def uuid() -> str:
        h = f"{bits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    # attempts of one request start after the next request may have: lines wait in a heap
    # until no later request can start before them, so the file is in start-time order
    pending: list[tuple[float, int, bytes]] = []
    seq = 0
    emit = _Sink(out, rows, tail, tail_rows).write
    while True:
        while pending and pending[0][0] <= t:
            if emit(heappop(pending)[2]):
                return
        task = task_table[int(rnd() * 1000)]
        group, p_med, c_med, tags_prod, tags_staging, task_meta = tasks[task]
        name = model_tables[task][int(rnd() * 1000)]
        trace = f'"{uuid()}"'
        key = int(rnd() ** 1.6 * n_meta)  # a few keys send most of the traffic
        meta_t = metadata[key]
        end_user = f'"user-{int(rnd() * 400)}"' if rnd() < 0.15 else "null"
        r = rnd()
        if task is None:
            tags, reqmeta = ('["env:prod"]' if r < 0.7 else "[]"), "null"
        elif r < 0.05:  # the task passed as request metadata instead of a tag
            tags, reqmeta = '["env:prod"]', task_meta
        else:
            tags, reqmeta = (tags_prod if r < 0.93 else tags_staging), "null"
        messages = tp.messages[task][int(rnd() * 2)]
        prompt = min(int(p_med * exp(0.8 * normal[int(rnd() * 16384)])) + 20, 180_000)
        visible = min(int(c_med * exp(0.7 * normal[int(rnd() * 16384)])) + 5, 30_000)
        streamed = rnd() < 0.4
        stream, params = ("true", '{"stream": true}') if streamed else ("null", '{"stream": false}')
        gateway_hit = rnd() < 0.01
        t0 = t
        retries = fallbacks = 0
        for attempt in range(3):
            (
                provider,
                (p_in, p_cached, p_write, p_out),
                reasoning,
                ttft,
                tps,
                p_fail,
                line_ok,
                line_fail,
                response_t,
                hidden_t,
                usage_t,
                deps,
                own_group,
            ) = models[name]
            dep = deps[(attempt + key) & 1]
            model_group = own_group if fallbacks else group
            x = rnd()
            kind = None
            if not gateway_hit:
                if x < p_fail:
                    kind = error_tables[provider][int(rnd() * 1000)]
                elif x > 0.9985:
                    kind = "context" if prompt > 2000 else "content_policy"
            if kind is not None:
                call = f'"{uuid()}"'
                if kind == "timeout":
                    dur = (60.0 if provider == "deepseek" else 30.0) + rnd() * 0.5
                elif kind in ("rate_limit", "context", "content_policy"):
                    dur = 0.05 + rnd() * 0.35
                else:
                    dur = 0.3 + rnd() * 3.5
                t_end = t0 + dur
                t1 = f"{t_end:.6f}"
                err_str, err_info = tp.errors[(provider, kind)]
                line = line_fail.fill(
                    {
                        "id": call,
                        "litellm_call_id": call,
                        "trace_id": trace,
                        "cache_hit": "false",
                        "stream": stream,
                        "startTime": f"{t0:.6f}",
                        "endTime": t1,
                        "completionStartTime": t1,
                        "response_time": repr(dur),
                        "metadata": meta_t.fill({"usage": "{}", "reqmeta": reqmeta}),
                        "cache_key": "null",
                        "response_cost": "0.0",
                        "cost_breakdown": "null",
                        "saved_cache_cost": "0.0",
                        "total_tokens": "0",
                        "prompt_tokens": "0",
                        "completion_tokens": "0",
                        "request_tags": tags,
                        "end_user": end_user,
                        "model_group": model_group,
                        "model_id": dep,
                        "messages": messages,
                        "response": "{}",
                        "model_parameters": params,
                        "hidden_params": hidden_fail,
                        "error_str": err_str,
                        "error_information": err_info,
                    }
                )
            else:
                rid = f'"chatcmpl-{uuid()}"'
                cached = write_tokens = 0
                if prompt >= 1024 and p_cached and rnd() < 0.4:
                    cached = int(prompt * (0.3 + rnd() * 0.6)) // 128 * 128
                elif prompt >= 1024 and p_write and rnd() < 0.2:
                    write_tokens = int(prompt * (0.4 + rnd() * 0.5))
                reason = int(visible * (0.5 + rnd() * 2.5)) if reasoning else 0
                completion = visible + reason
                total = str(prompt + completion)
                usage = usage_t.fill(
                    {
                        "p": str(prompt),
                        "c": str(completion),
                        "t": total,
                        "k": str(cached),
                        "w": str(write_tokens),
                        "r": str(reason),
                    }
                )
                in_cost = (
                    (prompt - cached - write_tokens) * p_in
                    + cached * p_cached
                    + write_tokens * p_write
                )
                out_cost = completion * p_out
                if gateway_hit:  # LiteLLM's own response cache: free, tokens replayed
                    dur = first = 0.003 + rnd() * 0.02
                    cost, saved, in_s, out_s = "0.0", repr(in_cost + out_cost), "0.0", "0.0"
                else:
                    first = ttft * exp(0.4 * normal[int(rnd() * 16384)])
                    dur = first + completion / (tps * exp(0.25 * normal[int(rnd() * 16384)]))
                    cost, saved = repr(in_cost + out_cost), "0.0"
                    in_s, out_s = repr(in_cost), repr(out_cost)
                t_end = t0 + dur
                t1 = f"{t_end:.6f}"
                line = line_ok.fill(
                    {
                        "id": rid,
                        "litellm_call_id": f'"{uuid()}"',
                        "trace_id": trace,
                        "cache_hit": "true" if gateway_hit else "null",
                        "stream": stream,
                        "startTime": f"{t0:.6f}",
                        "endTime": t1,
                        "completionStartTime": f"{t0 + first:.6f}" if streamed else t1,
                        "response_time": repr(first if streamed else dur),
                        "metadata": meta_t.fill({"usage": usage, "reqmeta": reqmeta}),
                        "cache_key": f'"{bits(128):032x}"' if gateway_hit else "null",
                        "response_cost": cost,
                        "cost_breakdown": cost_breakdown.fill(
                            {"total": cost, "input": in_s, "output": out_s}
                        ),
                        "saved_cache_cost": saved,
                        "total_tokens": total,
                        "prompt_tokens": str(prompt),
                        "completion_tokens": str(completion),
                        "request_tags": tags,
                        "end_user": end_user,
                        "model_group": model_group,
                        "model_id": dep,
                        "messages": messages,
                        "response": response_t.fill(
                            {
                                "id": rid,
                                "created": str(int(t_end)),
                                "usage": usage,
                                "content": tp.answers[int(rnd() * 3)],
                            }
                        ),
                        "model_parameters": params,
                        "hidden_params": hidden_t.fill(
                            {
                                "model_id": dep,
                                "cost": cost,
                                "overhead": str(int(2 + rnd() * 30)),
                                "group": model_group,
                                "retries": str(retries),
                                "fallbacks": str(fallbacks),
                            }
                        ),
                        "error_str": "null",
                        "error_information": empty_error,
                    }
                )
            if attempt:
                heappush(pending, (t0, seq, line.encode()))
                seq += 1
            elif emit(line.encode()):  # starts at t: before every pending line
                return
            if kind is None or kind == "content_policy":
                break
            if kind != "context" and rnd() < 0.7:
                retries += 1  # the same model on its other deployment
            else:
                fallbacks += 1
                name = FALLBACK[name]
            t0 = t_end + 0.3 + rnd() * 2.5  # router backoff
        t += exp1[int(rnd() * 16384)] * gap / week[int(t // 3600) % 168]


class _Sink:
    """``rows`` lines to ``out``, then ``tail_rows`` to ``tail``; ``write`` says when done."""

    def __init__(self, out: BinaryIO, rows: int, tail: BinaryIO | None, tail_rows: int) -> None:
        self.files = [(out.write, rows)] + ([(tail.write, tail_rows)] if tail and tail_rows else [])
        self._write, self.left = self.files.pop(0)

    def write(self, line: bytes) -> bool:
        self._write(line)
        self.left -= 1
        if self.left:
            return False
        if not self.files:
            return True
        self._write, self.left = self.files.pop(0)
        return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, required=True, help="attempts (lines) to write")
    ap.add_argument("--out", type=Path, required=True, help="JSONL file to write")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", default="2026-10-01", help="first day (UTC), YYYY-MM-DD")
    ap.add_argument("--days", type=float, default=30, help="length of the window in days")
    ap.add_argument("--tail-rows", type=int, default=0, help="more lines continuing the traffic")
    ap.add_argument("--tail-out", type=Path, help="file for --tail-rows")
    ap.add_argument(
        "--model-map",
        choices=["full", "compact", "minimal"],
        default="full",
        help="full: as litellm writes it; compact: without its null entries; minimal: only "
        "the keys RouteLedger reads (about 1.5 kB a line)",
    )
    args = ap.parse_args(argv)
    if args.rows <= 0:
        ap.error("--rows must be positive")
    if args.tail_rows and not args.tail_out:
        ap.error("--tail-rows needs --tail-out")
    began = time.perf_counter()
    with open(args.out, "wb", buffering=1 << 20) as out:
        if args.tail_rows:
            with open(args.tail_out, "wb", buffering=1 << 20) as tail:
                generate(
                    out,
                    args.rows,
                    args.seed,
                    args.start,
                    args.days,
                    tail,
                    args.tail_rows,
                    args.model_map,
                )
        else:
            generate(out, args.rows, args.seed, args.start, args.days, model_map=args.model_map)
    secs = time.perf_counter() - began
    size = args.out.stat().st_size
    print(
        f"{args.rows:,} rows, {size / 1e6:,.0f} MB in {secs:.1f} s "
        f"({args.rows / secs:,.0f} rows/s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
