"""Accounts beyond one machine: two app processes on one PostgreSQL database behind nginx
(the README's deploy/nginx.conf), a process killed with SIGKILL in the middle of work, and
the database restarted under a running app. Every service is real and local
(tests/services.py); PostgreSQL and nginx come from Debian's packages."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import run_script, start_server, stop_server
from gradio_client import Client, handle_file
from PIL import Image
from services import Nginx, PostgresCluster

from accounts import Store

pytestmark = pytest.mark.slow

ALICE = ("alice@example.com", "alice-password")
BOB = ("bob@example.com", "bob-password")


def digit_pngs(mnist, count: int, directory: Path) -> list[Path]:
    """MNIST test digits as dark ink on white paper, 84 x 84."""
    (_, _), (x_test, _) = mnist
    paths = []
    for index in range(count):
        path = directory / f"digit_{index}.png"
        Image.fromarray(255 - x_test[index]).resize((84, 84)).save(path)
        paths.append(path)
    return paths


class Site:
    """Two app processes (``--accounts``, the database given as ``$DATABASE_URL``, as a
    hosted Space would) and nginx in front of them."""

    def __init__(self, database: str) -> None:
        for email, password in (ALICE, BOB):
            added = run_script("app.py", "--add-user", email, stdin=password + "\n",
                               env={"DATABASE_URL": database})  # fmt: skip
            assert added.returncode == 0, added.stderr
        self.database = database
        self.processes: list = []
        self.urls: list[str] = []
        for _ in range(2):
            process, url = start_server([], env={"DATABASE_URL": database})
            self.processes.append(process)
            self.urls.append(url)
        self.ports = [int(url.rstrip("/").rsplit(":", 1)[1]) for url in self.urls]
        self.nginx = Nginx(self.ports)
        self.url = self.nginx.url

    def served_by(self) -> Counter:
        """How many requests nginx sent to each process so far (by its index)."""
        log = (self.nginx.folder / "logs" / "upstream.log").read_text()
        ports = Counter(int(port) for port in re.findall(r"127\.0\.0\.1:(\d+)", log))
        return Counter({index: ports[port] for index, port in enumerate(self.ports)})

    def stop(self) -> None:
        self.nginx.stop()
        for process in self.processes:
            if process.poll() is None:
                stop_server(process)


@contextlib.contextmanager
def running_site(postgres: PostgresCluster) -> Iterator[Site]:
    site = Site(postgres.create_database(f"site_{os.urandom(4).hex()}"))
    try:
        yield site
    finally:
        site.stop()


@pytest.fixture(scope="module")
def site(postgres) -> Iterator[Site]:
    with running_site(postgres) as running:
        yield running


def sign_in(url: str, email: str, password: str) -> httpx.Cookies:
    answer = httpx.post(url + "login", data={"username": email, "password": password})
    assert answer.status_code == 200, answer.text
    return answer.cookies


def test_sessions_and_history_are_shared_by_both_processes(site, mnist, tmp_path):
    first, second = site.urls
    cookies = sign_in(first, *ALICE)  # signed in through the first process...
    assert httpx.get(second + "config", cookies=cookies).status_code == 200  # ...and the second
    alice_first = Client(first, httpx_kwargs={"cookies": dict(cookies)}, verbose=False)
    [image] = digit_pngs(mnist, 1, tmp_path)
    label, _, _ = alice_first.predict(handle_file(str(image)), api_name="/predict_upload")
    alice_second = Client(second, httpx_kwargs={"cookies": dict(cookies)}, verbose=False)
    history = alice_second.predict(50, api_name="/history")
    assert history and history[0]["answer"] == label["label"] == "7"
    bob_second = Client(second, auth=BOB, verbose=False)
    assert all(e["id"] != history[0]["id"] for e in bob_second.predict(50, api_name="/history"))
    # Signing out through the second process ends the session for the first too.
    httpx.get(second + "logout", cookies=cookies)
    assert httpx.get(first + "config", cookies=cookies).status_code == 401
    assert httpx.get(second + "config", cookies=cookies).status_code == 401


def test_the_proxy_spreads_browsers_and_keeps_each_on_one_process(site):
    """New browsers are spread by a random route (nginx's $request_id, hashed): 32 of them
    all on one process would happen once in 2**31 runs (eight Clients, tried before, once in
    about 128). Each browser's later requests carry its route cookie and stay on one process."""
    before = site.served_by()
    routes = set()
    for _ in range(32):  # a first visit: no cookie yet
        answer = httpx.get(site.url + "config")
        routes.add(answer.cookies.get("digits_route"))
    assert None not in routes and len(routes) == 32  # each browser its own route cookie
    served = site.served_by() - before
    assert served[0] > 0 and served[1] > 0, served
    for route in list(routes)[:4]:
        before = site.served_by()
        for _ in range(6):
            httpx.get(site.url + "config", cookies={"digits_route": route})
        assert len(+(site.served_by() - before)) == 1  # all six on one process
    clients = [Client(site.url, auth=ALICE, verbose=False) for _ in range(3)]
    for client in clients:
        # The queue's join and its event stream meet on one process (a prediction through
        # the proxy would fail otherwise), again and again.
        for _ in range(2):
            assert isinstance(client.predict(5, api_name="/history"), list)


def test_a_killed_process_loses_no_answered_recognition(postgres, mnist, tmp_path):
    """20 concurrent recognitions through nginx, by two users on clients spread over both
    processes; SIGKILL of one in the middle. Every answered recognition is in the database,
    and the clients of the killed process go on through the other, still signed in."""
    images = digit_pngs(mnist, 20, tmp_path)
    with running_site(postgres) as site:
        clients = []
        while len({site_index for _, _, site_index in clients}) < 2 and len(clients) < 24:
            before = site.served_by()
            user = (ALICE, BOB)[len(clients) % 2]
            client = Client(site.url, auth=user, verbose=False)
            served = site.served_by() - before
            clients.append((user[0], client, max(served, key=served.get)))
        assert {index for _, _, index in clients} == {0, 1}, "nginx used one process only"
        jobs = []
        for number, image in enumerate(images):
            email, client, index = clients[number % len(clients)]
            job = client.submit(handle_file(str(image)), api_name="/predict_upload")
            jobs.append((email, index, job))
        deadline = time.monotonic() + 60
        while sum(job.done() for *_, job in jobs) < 6 and time.monotonic() < deadline:
            time.sleep(0.005)
        victim = site.processes[0]
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        answered: Counter = Counter()
        failed = 0
        for email, _, job in jobs:
            try:
                answered[email, job.result(timeout=60)[0]["label"]] += 1
            except Exception:  # cut off with its process: not answered, nothing promised
                failed += 1
        assert sum(answered.values()) >= 6 and sum(answered.values()) + failed == 20
        store = Store(site.database)
        for email in (ALICE[0], BOB[0]):
            stored = Counter((email, entry.answer) for entry in store.history(email, 500))
            for key, count in answered.items():
                if key[0] == email:
                    assert stored[key] >= count, (key, stored)
        # A client that was on the killed process is served by the other, still signed in.
        email, client, _ = next(c for c in clients if c[2] == 0)
        label, _, _ = client.predict(handle_file(str(images[0])), api_name="/predict_upload")
        assert label["label"] == "7"
        assert store.history(email, 1)[0].answer == "7"
        store.close()


def test_a_database_restart_under_a_running_app(mnist, tmp_path):
    """PostgreSQL stopped under a running app: a signed-in user's requests get a clear
    error and store nothing; once it is back, requests succeed without a restart of the
    app, and nothing half-written is left."""
    cluster = PostgresCluster()  # its own server: stopping it touches no other test
    process = None
    try:
        database = cluster.create_database("restart")
        added = run_script("app.py", "--db", database, "--add-user", ALICE[0],
                           stdin=ALICE[1] + "\n")  # fmt: skip
        assert added.returncode == 0, added.stderr
        process, url = start_server(["--accounts", "--db", database])
        alice = Client(url, auth=ALICE, verbose=False)
        images = digit_pngs(mnist, 16, tmp_path)  # all different: each one entry
        alice.predict(handle_file(str(images[0])), api_name="/predict_upload")

        cluster.stop()
        with pytest.raises(Exception, match="cannot be reached right now") as refused:
            alice.predict(handle_file(str(images[1])), api_name="/predict_upload")
        assert "was not saved" in str(refused.value)
        with pytest.raises(Exception, match="cannot be reached right now"):
            alice.predict(10, api_name="/history")
        answer = httpx.post(
            url + "login", data={"username": ALICE[0], "password": ALICE[1]}, timeout=60
        )
        assert answer.status_code == 503 and "try again" in answer.json()["detail"]

        cluster.start()
        label, _, _ = alice.predict(handle_file(str(images[2])), api_name="/predict_upload")
        history = alice.predict(10, api_name="/history")
        assert [entry["answer"] for entry in history] == [label["label"], "7"]
        assert Client(url, auth=ALICE, verbose=False).predict(10, api_name="/history")

        # Restarted while recognitions are in flight: each is answered and stored, or gets
        # the clear error and is not stored.
        jobs = [
            alice.submit(handle_file(str(image)), api_name="/predict_upload")
            for image in images[4:]
        ]
        while sum(job.done() for job in jobs) < 2:
            time.sleep(0.005)
        cluster.restart()
        answered = 0
        for job in jobs:
            try:
                job.result(timeout=60)
                answered += 1
            except Exception as error:
                assert "cannot be reached right now" in str(error), error
        stored = alice.predict(500, api_name="/history")
        assert answered <= len(stored) - len(history) <= len(jobs)
        log = stop_server(process)
        process = None
        assert "Traceback" not in log
    finally:
        if process is not None:
            stop_server(process)
        cluster.remove()
