"""Real services for the tests: a throwaway PostgreSQL cluster and an nginx reverse proxy,
each in a temporary folder, on free ports of 127.0.0.1, removed when stopped.

Both come from Debian's packages (``postgresql``, ``nginx``), which ``scripts/test``
installs. PostgreSQL refuses to run as root, so as root the cluster runs as the
``postgres`` user the package creates.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from webapp.local import free_port

ROOT = Path(__file__).resolve().parent.parent
NGINX_TEMPLATE = ROOT / "deploy" / "nginx.conf"


def wait_for_port(port: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {seconds:.0f} s")


def postgres_bin(name: str) -> str:
    """``initdb``/``pg_ctl`` of the newest PostgreSQL installed (Debian keeps them off PATH)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version)
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path is None:
        raise FileNotFoundError(
            f"{name} not found: install PostgreSQL (apt-get install postgresql), as "
            "scripts/test does"
        )
    return on_path


def _version(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


class PostgresCluster:
    """A PostgreSQL server of its own: ``url(name)`` for a new database in it."""

    USER = "digits"
    PASSWORD = "test-password"

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="digits-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = free_port()
        self.run_as = None
        if os.geteuid() == 0:
            self.run_as = "postgres"
            owner = pwd.getpwnam(self.run_as)
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        secret = self.folder / "password"
        secret.write_text(self.PASSWORD + "\n")
        if self.run_as:
            os.chown(secret, pwd.getpwnam(self.run_as).pw_uid, -1)
        self._run(
            postgres_bin("initdb"),
            "-D",
            str(self.data),
            "-U",
            self.USER,
            f"--pwfile={secret}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--no-sync",
        )
        self.start()

    def _run(self, *command: str) -> None:
        result = subprocess.run(
            command, capture_output=True, text=True, user=self.run_as, timeout=120, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")

    def _pg_ctl(self, *args: str) -> None:
        self._run(postgres_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), *args)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-w", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-w", "-m", mode, "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.USER}:{self.PASSWORD}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


class Nginx:
    """nginx started from ``deploy/nginx.conf`` (the README's), in front of ``upstreams``
    (ports of app processes on 127.0.0.1); ``url`` is its address."""

    def __init__(self, upstreams: list[int]) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="digits-nginx-"))
        self.port = free_port()
        servers = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=30s;" for port in upstreams
        )
        config = NGINX_TEMPLATE.read_text()
        config = config.replace("listen 8080;", f"listen 127.0.0.1:{self.port};")
        start = config.index("        server 127.0.0.1:7861")
        end = config.index("\n", config.index("        server 127.0.0.1:7862")) + 1
        config = config[:start] + servers + "\n" + config[end:]
        for folder in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"):
            (self.folder / folder).mkdir()
        config = config.replace(
            "http {",
            "http {\n"
            + "".join(
                f"    {kind}_temp_path {self.folder / kind};\n"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
            + "    log_format upstreams '$upstream_addr \"$request\" $status';\n"
            + f"    access_log {self.folder / 'logs' / 'upstream.log'} upstreams;\n",
            1,
        )
        self.config = self.folder / "nginx.conf"
        self.config.write_text(config)
        self.url = f"http://127.0.0.1:{self.port}/"
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.process = subprocess.Popen(
            [
                nginx,
                "-p",
                str(self.folder),
                "-c",
                str(self.config),
                "-e",
                str(self.folder / "logs" / "error.log"),
                "-g",
                f"daemon off; master_process off; pid {self.folder / 'nginx.pid'};",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(self.port)
        except TimeoutError:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)
