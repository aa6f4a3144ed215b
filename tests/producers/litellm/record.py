"""Re-record ``tests/fixtures/logs/litellm_proxy_real/``: a real LiteLLM proxy in front of the
fake OpenAI server, driven by ``client.py``. Not run by ``make test`` (it needs LiteLLM, which is
not one of RouteLedger's dependencies); the comparison of the recording with its truth is
``tests/logs/test_litellm_real.py``.

From the repository root::

    python3 -m venv /tmp/litellm-venv
    /tmp/litellm-venv/bin/pip install 'litellm[proxy]<1.109'
    /tmp/litellm-venv/bin/python tests/producers/litellm/record.py

What it does: starts ``python -m tests.producers.fake_openai`` on a free loopback port with
``scenario.json``; starts ``litellm --config config.yaml`` on another, its deployments pointed at
the fake server (``FAKE_OPENAI_*``), a throwaway master key, the local price map, and
``slp_jsonl_logger.py`` writing every StandardLoggingPayload to a JSONL file; runs
``client.py``; stops both; and writes into the fixture folder:

* ``litellm_slp.jsonl``: the proxy's log, one payload a line, in the order LiteLLM wrote them.
  Reduced to keep it small, its meaning unchanged: inside the top-level objects, keys whose
  value is null are dropped (LiteLLM writes ~250 of them a line, ~200 in the price entry
  ``model_map_information.model_map_value``, whose ``supported_openai_params`` list goes too);
  top-level keys are all kept, nulls included; a non-empty ``error_information.traceback``
  becomes ``"<traceback removed>"`` (it held local paths).
* ``truth.jsonl``: the fake server's truth file (one line per upstream call).
* ``client.jsonl``: each request's outcome as the client saw it.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
OUT = ROOT / "tests" / "fixtures" / "logs" / "litellm_proxy_real"
sys.path.insert(0, str(HERE))

import client  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer in {seconds}s")


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _drop_nulls(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _drop_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_drop_nulls(x) for x in v]
    return v


def reduce_line(line: str) -> str:
    """One payload, reduced to keep the recording small, its meaning unchanged (see above)."""
    d = json.loads(line)
    ei = d.get("error_information")
    if isinstance(ei, dict) and ei.get("traceback"):
        ei["traceback"] = "<traceback removed>"
    mmi = d.get("model_map_information")
    if isinstance(mmi, dict) and isinstance(mmi.get("model_map_value"), dict):
        mmi["model_map_value"].pop("supported_openai_params", None)
    d = {k: _drop_nulls(v) if isinstance(v, dict) else v for k, v in d.items()}
    return json.dumps(d, separators=(",", ":"), ensure_ascii=False)


def record(out: Path, seed: int, workers: int) -> None:
    litellm_bin = Path(sys.executable).parent / "litellm"
    work = Path(tempfile.mkdtemp(prefix="litellm-rec-"))
    truth, slp, client_out = work / "truth.jsonl", work / "slp.jsonl", work / "client.jsonl"
    fake = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.producers.fake_openai",
            "--port",
            "0",
            "--truth",
            str(truth),
            "--scenario",
            str(HERE / "scenario.json"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    proxy = None
    try:
        assert fake.stdout is not None
        fake_url = fake.stdout.readline().strip().rsplit(" ", 1)[-1]
        port = free_port()
        key = "sk-rec-" + secrets.token_hex(16)  # thrown away with the proxy
        env = os.environ | {
            "LITELLM_MASTER_KEY": key,
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "SLP_LOG": str(slp),
            "FAKE_OPENAI_EAST": f"{fake_url}/east/v1",
            "FAKE_OPENAI_WEST": f"{fake_url}/west/v1",
            "FAKE_OPENAI_SMALL": f"{fake_url}/small/v1",
        }
        proxy = subprocess.Popen(
            [
                str(litellm_bin),
                "--config",
                str(HERE / "config.yaml"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=HERE,
            env=env,
            stdout=open(work / "proxy.out", "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        proxy_url = f"http://127.0.0.1:{port}"
        wait_http(proxy_url + "/health/liveliness", 120)
        client.run(proxy_url, key, str(client_out), seed=seed, workers=workers)
        time.sleep(3)  # the proxy logs asynchronously
    finally:
        if proxy is not None:
            stop(proxy)
        stop(fake)
    out.mkdir(parents=True, exist_ok=True)
    lines = [reduce_line(x) for x in slp.read_text(encoding="utf-8").splitlines() if x.strip()]
    (out / "litellm_slp.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy(truth, out / "truth.jsonl")
    shutil.copy(client_out, out / "client.jsonl")
    from importlib.metadata import version

    print(
        f"recorded {len(lines)} log lines; litellm {version('litellm')}, "
        f"python {sys.version.split()[0]}; proxy output in {work / 'proxy.out'}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--workers", type=int, default=4)
    a = p.parse_args()
    record(a.out, a.seed, a.workers)


if __name__ == "__main__":
    main()
