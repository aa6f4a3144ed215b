"""The application side of the LiteLLM recording: a few hundred chat requests over three tasks,
streamed and not, sent to a LiteLLM proxy the way an application would (httpx, a bearer key, the
task as a request tag ``task:<name>`` in ``metadata.tags``).

Every request carries ``x-client-request-id: <task>-<nnnn>``; the proxy forwards ``x-`` headers
to the upstream (``general_settings.forward_client_headers_to_llm_api``), so the fake server's
truth file says which logical request (and task) each upstream call belonged to. The plan (task,
model group, streaming, prompt length, order) comes from a seeded RNG, so the same seed sends the
same traffic. Each request's outcome as the client saw it is written to ``--out`` (JSONL:
``request_key``, ``task``, ``model``, ``streamed``, ``http_status``, ``ok``).

Run by ``record.py``; on its own::

    python client.py --proxy http://127.0.0.1:4000 --out client.jsonl   # key: LITELLM_MASTER_KEY
"""

from __future__ import annotations

import argparse
import json
import os
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

# task -> (model group asked for, requests, share streamed)
TASKS: dict[str, tuple[str, int, float]] = {
    "summarize": ("large", 100, 0.5),
    "classify": ("small", 80, 0.3),
    "draft": ("large", 60, 0.75),
}
WORDS = "the quarterly report shows revenue growth in every region with costs held flat".split()


def plan(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for task, (model, n, share_streamed) in TASKS.items():
        for i in range(n):
            out.append(
                {
                    "request_key": f"{task}-{i:04d}",
                    "task": task,
                    "model": model,
                    "streamed": rng.random() < share_streamed,
                    "words": rng.randint(20, 400),
                }
            )
    rng.shuffle(out)
    return out


def send(client: httpx.Client, proxy: str, key: str, req: dict[str, Any]) -> dict[str, Any]:
    rng = random.Random(req["request_key"])
    text = " ".join(rng.choice(WORDS) for _ in range(req["words"]))
    body: dict[str, Any] = {
        "model": req["model"],
        "messages": [
            {"role": "system", "content": f"You {req['task']} documents."},
            {"role": "user", "content": text},
        ],
        "metadata": {"tags": [f"task:{req['task']}"]},
        "stream": req["streamed"],
    }
    if req["streamed"]:
        body["stream_options"] = {"include_usage": True}
    headers = {"authorization": f"Bearer {key}", "x-client-request-id": req["request_key"]}
    url = proxy.rstrip("/") + "/v1/chat/completions"
    ok = False
    if req["streamed"]:
        with client.stream("POST", url, json=body, headers=headers) as r:
            status = r.status_code
            data = r.read().decode("utf-8", "replace")
            ok = status == 200 and "data: [DONE]" in data and '"error"' not in data
    else:
        r = client.post(url, json=body, headers=headers)
        status = r.status_code
        ok = status == 200 and bool(r.json().get("choices"))
    return {k: req[k] for k in ("request_key", "task", "model", "streamed")} | {
        "http_status": status,
        "ok": ok,
    }


def run(proxy: str, key: str, out: str, seed: int = 13, workers: int = 4) -> list[dict[str, Any]]:
    requests = plan(seed)
    lock = threading.Lock()
    results: list[dict[str, Any]] = []
    with (
        httpx.Client(timeout=120) as client,
        open(out, "w", encoding="utf-8") as f,
        ThreadPoolExecutor(workers) as pool,
    ):

        def one(req: dict[str, Any]) -> None:
            res = send(client, proxy, key, req)
            with lock:
                results.append(res)
                f.write(json.dumps(res) + "\n")
                f.flush()

        for fut in [pool.submit(one, r) for r in requests]:
            fut.result()
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--proxy", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--workers", type=int, default=4)
    a = p.parse_args()
    run(a.proxy, os.environ["LITELLM_MASTER_KEY"], a.out, a.seed, a.workers)


if __name__ == "__main__":
    main()
