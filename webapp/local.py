"""Run the app in a child process on a free local port: for the tests, the benchmarks and the
screenshot script, which all need a real server to talk to."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_local_app(
    args: Sequence[str] = (),
    output: IO[str] | int = subprocess.DEVNULL,
    timeout: float = 90.0,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen, str]:
    """Start ``python app.py --host 127.0.0.1 --port P ARGS`` and wait until its page answers.

    ``output`` takes the server's stdout and stderr (a file: a pipe nobody reads would fill up
    and stall it). Returns ``(process, url)``; raises RuntimeError when the app exits early or
    does not answer within ``timeout`` seconds (it is then killed). ``env`` adds environment
    variables.
    """
    port = free_port()
    command = [sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        [*command, *args],
        cwd=ROOT,
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited early (status {process.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"app.py did not answer at {url} within {timeout} s")
