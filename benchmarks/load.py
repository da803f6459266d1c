"""Load test: many visitors at once against a real app on 127.0.0.1.

    python benchmarks/load.py [--clients 30] [--seconds 60] [--url URL --pid PID]

Without ``--url`` it starts ``python app.py`` on a free port itself (and stops it after).
Each client loops until the time is up, picking in turn a digit photo upload
(``/predict_upload``), a number (``/read_number``) and a drawing (``/predict_sketch``),
each uploaded first as the page does, then called through Gradio's HTTP API and waited for.
It prints requests per second, p50/p95 latency per kind, errors, and the server's memory
(resident, sampled every 0.25 s). Target on the 2-core machine: no errors, p95 under 5 s,
server under 1.5 GB. Traffic goes only to the loopback address it is given.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webapp.local import start_local_app  # noqa: E402

EXAMPLES = ROOT / "examples" / "images"
KINDS = {
    "digit": ("predict_upload", sorted(EXAMPLES.glob("*_[0-9].*"))),
    "number": ("read_number", sorted(EXAMPLES.glob("number_*")) + sorted(EXAMPLES.glob("lines_*"))),
    "sketch": ("predict_sketch", [EXAMPLES / "thin_4.png"]),
}


def start_app() -> tuple[subprocess.Popen, str]:
    """The app on a free local port (:func:`webapp.local.start_local_app`); exits with one
    line when it does not start."""
    try:
        return start_local_app()
    except RuntimeError as error:
        raise SystemExit(f"load.py: the app did not start ({error})") from None


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def one_request(client: httpx.Client, url: str, kind: str, path: Path) -> None:
    api, _ = KINDS[kind]
    with path.open("rb") as stream:
        uploaded = client.post(url + "gradio_api/upload", files={"files": stream})
    uploaded.raise_for_status()
    file = {"path": uploaded.json()[0], "meta": {"_type": "gradio.FileData"}}
    value = {"background": None, "layers": [], "composite": file} if kind == "sketch" else file
    started = client.post(f"{url}gradio_api/call/{api}", json={"data": [value]})
    started.raise_for_status()
    answer = client.get(f"{url}gradio_api/call/{api}/{started.json()['event_id']}").text
    if "event: complete" not in answer:
        raise RuntimeError(answer[-200:])
    json.loads(answer.split("data:", 2)[-1])


def run(url: str, pid: int | None, clients: int, seconds: float) -> None:
    latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
    errors: list[str] = []
    memory = [rss_mb(pid) if pid else 0.0]
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    progress = tqdm(total=int(seconds), desc="load", unit="s", leave=False)

    def visitor(index: int) -> None:
        kinds = list(KINDS)
        with httpx.Client(timeout=120) as client:
            n = index
            while time.monotonic() < deadline:
                kind = kinds[n % len(kinds)]
                files = KINDS[kind][1]
                path = files[(n // len(kinds)) % len(files)]
                n += 1
                started = time.monotonic()
                try:
                    one_request(client, url, kind, path)
                    with lock:
                        latencies[kind].append(time.monotonic() - started)
                except Exception as error:  # counted and shown, the load goes on
                    with lock:
                        errors.append(f"{kind}: {error}")

    threads = [threading.Thread(target=visitor, args=(i,)) for i in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        time.sleep(0.25)
        if pid:
            memory.append(rss_mb(pid))
        progress.n = min(int(seconds), int(time.monotonic() - began))
        progress.refresh()
    progress.close()
    elapsed = time.monotonic() - began
    everything = [t for values in latencies.values() for t in values]
    print(f"\n{clients} clients for {seconds:.0f} s against {url}\n")
    print("| kind | requests | p50 (s) | p95 (s) |")
    print("|---|---|---|---|")
    for kind, values in [*latencies.items(), ("all", everything)]:
        if values:
            p50, p95 = np.percentile(values, [50, 95])
            print(f"| {kind} | {len(values)} | {p50:.2f} | {p95:.2f} |")
    print(f"\nrequests/s: {len(everything) / elapsed:.1f}   errors: {len(errors)}")
    if pid:
        print(f"server memory: {memory[0]:.0f} MB at start, peak {max(memory):.0f} MB")
    for error in errors[:5]:
        print("  error:", error)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--url", help="a running app (default: start one)")
    parser.add_argument("--pid", type=int, help="its process id, for its memory")
    args = parser.parse_args()
    if args.url:
        run(
            args.url if args.url.endswith("/") else args.url + "/",
            args.pid,
            args.clients,
            args.seconds,
        )
        return
    process, url = start_app()
    try:
        run(url, process.pid, args.clients, args.seconds)
    finally:
        process.terminate()
        process.wait(timeout=15)


if __name__ == "__main__":
    main()
