"""Sign-in and self-registration for the Gradio app.

:class:`Accounts` serves the routes placed in front of Gradio's own::

    POST /login      fields username, password (Gradio's sign-in page and gradio_client
                     post here) -> 200 with the session cookies, 400 "Incorrect
                     credentials.", or 429 while the throttle holds the attempt back
    GET  /logout     ends the user's sessions (all of them, or ``?all_session=false``: this
                     one) and goes back to the sign-in page
    GET  /register   the form: email, password, confirmation
    POST /register   fields email, password, confirm -> 303 to the sign-in page (the same
                     answer whether the address was new or already had an account), the form
                     again with status 400 and the reason, or 429 past the per-client limit

Sign-in is Gradio's own session scheme (a random token in ``app.tokens`` and two cookies),
with the table of sessions moved into the database (:class:`Sessions`: every app process
serving one database accepts every session) and what a public server needs on top: the
name kept in the session is the normalised address (so signing out ends every session of
that user, however it was typed), a throttle per account-and-client and per client that
parallel requests cannot outrun (:class:`~accounts.security.LoginThrottle`), at most
``HASHING_WORKERS`` scrypt computations at once, and sessions that expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .security import (
    MAX_EMAIL,
    MAX_PASSWORD,
    MIN_PASSWORD,
    LoginThrottle,
    RateLimit,
    burn_password_check,
    hash_password,
    normalize_email,
    registration_problem,
    verify_password,
)
from .store import DatabaseUnavailableError, EmailTakenError, Store

T = TypeVar("T")
#: scrypt computations (16 MB and ~50 ms each) that may run at once; more wait...
HASHING_WORKERS = 2
#: ...up to this many; beyond it a sign-in or registration is told to come back later.
HASHING_QUEUE = 32
WRONG = "Incorrect credentials."
BUSY = "Too many sign-in attempts right now; wait a moment and try again."
UNAVAILABLE = "The accounts database cannot be reached right now; try again in a moment."

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Create an account - Handwritten digit recognizer</title>
<style>
 body {{ font-family: system-ui, sans-serif; background: #f4f4f8; margin: 0; color: #1f2937; }}
 main {{ max-width: 380px; margin: 8vh auto; background: #fff; padding: 2rem;
        border-radius: 12px; box-shadow: 0 2px 12px rgba(0,0,0,.08); }}
 h1 {{ font-size: 1.4rem; margin: 0 0 1rem; }}
 label {{ display: block; margin: .9rem 0 .3rem; font-weight: 600; }}
 input {{ width: 100%; box-sizing: border-box; padding: .6rem; font-size: 1rem;
         border: 1px solid #c7c9d1; border-radius: 8px; }}
 button {{ margin-top: 1.3rem; width: 100%; padding: .7rem; font-size: 1rem; border: 0;
          border-radius: 8px; background: #6366f1; color: #fff; cursor: pointer; }}
 .error {{ background: #fee2e2; color: #991b1b; padding: .6rem .8rem; border-radius: 8px; }}
 p.small {{ font-size: .9rem; }}
</style></head>
<body><main>
<h1>Create an account</h1>
{message}
<form method="post" action="register">
 <label for="email">Email</label>
 <input id="email" name="email" type="email" autocomplete="email" required value="{email}">
 <label for="password">Password (at least {min_password} characters)</label>
 <input id="password" name="password" type="password" autocomplete="new-password" required>
 <label for="confirm">Password again</label>
 <input id="confirm" name="confirm" type="password" autocomplete="new-password" required>
 <button type="submit">Create account</button>
</form>
<p class="small">Already have an account? <a href="{home}">Sign in</a></p>
</main></body></html>
"""

CLOSED = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Registration closed</title></head><body style="font-family: system-ui, sans-serif">
<main style="max-width: 380px; margin: 8vh auto"><h1>Registration is closed</h1>
<p>New accounts are made by the administrator of this site.</p>
<p><a href="{home}">Sign in</a></p></main></body></html>
"""


class Sessions:
    """Gradio's session table (``app.tokens``: token -> user name), kept in the database so
    that every app process serving it sees every sign-in, and sign-outs and expiry too.

    Gradio asks ``get(token)`` on every request. While the database does not answer, a
    session this process checked in the last ``OUTAGE_GRACE`` seconds still counts, so that
    a signed-in user's request reaches the handler, which says in words that the database
    cannot be reached (rather than the page falling back to the sign-in form); any other
    token counts as "not signed in" for that request."""

    OUTAGE_GRACE = 300.0
    REMEMBERED = 10_000

    def __init__(self, store: Store, max_age: float) -> None:
        self.store = store
        self.max_age = max_age
        self._checked: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: Any, default: str | None = None) -> str | None:
        if not isinstance(token, str) or not token or len(token) > 200:
            return default
        try:
            user = self.store.session_user(token, self.max_age)
        except DatabaseUnavailableError:
            with self._lock:
                checked = self._checked.get(token)
            if checked is not None and time.monotonic() - checked[1] < self.OUTAGE_GRACE:
                return checked[0]
            return default
        with self._lock:
            if user is None:
                self._checked.pop(token, None)
            else:
                self._checked[token] = (user, time.monotonic())
                self._checked.move_to_end(token)
                while len(self._checked) > self.REMEMBERED:
                    self._checked.popitem(last=False)
        return default if user is None else user

    def __contains__(self, token: Any) -> bool:
        return self.get(token) is not None

    def __getitem__(self, token: str) -> str:
        user = self.get(token)
        if user is None:
            raise KeyError(token)
        return user

    def __setitem__(self, token: str, email: str) -> None:
        self.store.start_session(normalize_email(email), token)

    def __delitem__(self, token: str) -> None:
        self.store.end_session(token)


def _cookie_names(request: Request) -> tuple[str, str]:
    """Gradio's two session cookies for this app: the secure one and the plain-HTTP one."""
    cookie_id = request.app.cookie_id
    return f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}"


class BusyError(Exception):
    """Too many password computations are waiting already."""


class Accounts:
    """The sign-in check and registration pages over one :class:`~accounts.store.Store`."""

    def __init__(
        self,
        store: Store,
        signup: bool = True,
        session_seconds: float = 12 * 3600,
        registrations_per_hour: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.signup = signup
        self.session_seconds = session_seconds
        self.clock = clock
        #: Each sign-in passes three throttles: per account-and-client (a guesser is slowed at
        #: once, the account's owner elsewhere is not), per client (many accounts guessed
        #: from one address; lenient, a class may share one address) and per account (a
        #: backstop against guessing one account from many addresses).
        self.throttles = {
            "pair": LoginThrottle(free=3, clock=clock),
            "client": LoginThrottle(free=30, base=0.25, clock=clock),
            "account": LoginThrottle(free=20, clock=clock),
        }
        self.registrations = RateLimit(registrations_per_hour, 3600.0, clock)
        self.sessions = Sessions(store, session_seconds)
        self._hashing: asyncio.Semaphore | None = None
        self._queued = 0

    @property
    def auth_message(self) -> str:
        """The HTML that Gradio shows on its sign-in page."""
        if not self.signup:
            return "Sign in with the email and password your administrator gave you."
        return (
            'No account yet? <a href="/register" style="color: #4f46e5; '
            'text-decoration: underline">Create one</a>.'
        )

    def check_password(self, email: str, password: str) -> bool:
        """Whether this email/password pair signs in (always one scrypt check)."""
        user = self.store.user(normalize_email(email))
        if user is None:
            burn_password_check(password)
            return False
        return verify_password(password, user.password_hash)

    async def _hash(self, work: Callable[..., T], *args: Any) -> T:
        """Run one scrypt computation in a worker thread, at most HASHING_WORKERS at once;
        raises :class:`BusyError` when HASHING_QUEUE others are already waiting."""
        if self._hashing is None:
            self._hashing = asyncio.Semaphore(HASHING_WORKERS)
        if self._queued >= HASHING_QUEUE:
            raise BusyError
        self._queued += 1
        try:
            async with self._hashing:
                return await run_in_threadpool(work, *args)
        finally:
            self._queued -= 1

    async def sign_in(self, username: str, password: str, client: str) -> bool | None:
        """Whether this name and password sign in, asked from ``client`` (an address): True,
        False, or None when the attempt was refused unchecked (throttled or busy)."""
        if len(username) > 4 * MAX_EMAIL or len(password) > MAX_PASSWORD:
            return False  # refused before any work
        email = normalize_email(username)
        keys = {"pair": f"{email}|{client}", "client": client, "account": email}
        waits: list[float] = []
        for kind, key in keys.items():
            wait = self.throttles[kind].admit([key])
            if wait is None:
                for admitted in list(keys)[: len(waits)]:
                    self.throttles[admitted].finish([keys[admitted]])
                return None
            waits.append(wait)
        ok = False
        try:
            if max(waits) > 0:
                await asyncio.sleep(max(waits))
            ok = await self._hash(self.check_password, email, password)
        except BusyError:
            return None
        finally:
            for kind, key in keys.items():
                success = [key] if ok else []
                if kind == "client":  # an address is not held back by its own successes
                    self.throttles[kind].finish([key], refund=success)
                else:
                    self.throttles[kind].finish([key], reset=success)
        return ok

    async def authenticate(self, username: str, password: str) -> bool:
        """Gradio's ``auth`` callable (its own ``/login`` is shadowed by :meth:`routes`; this
        keeps Gradio's sign-in required and serves any other caller the same rules)."""
        try:
            return bool(await self.sign_in(username, password, "gradio"))
        except DatabaseUnavailableError:
            return False

    def register(self, email: str, password: str, confirm: str) -> str | None:
        """Create an account unless one exists; returns the reason the request was refused,
        or None. An address that has an account already gets None too, after the same
        work, and its account is left as it was: the answer must not tell who has one."""
        problem = registration_problem(email, password, confirm)
        if problem is not None:
            return problem
        address = normalize_email(email)
        password_hash = hash_password(password)
        if self.store.user(address) is None:
            with contextlib.suppress(EmailTakenError):  # registered meanwhile: same answer
                self.store.add_user(address, password_hash)
        return None

    def routes(self) -> list[Route]:
        """The ``/login`` and ``/register`` routes to put in front of Gradio's own."""
        return [
            Route("/login", self._login, methods=["POST"]),
            Route("/login/", self._login, methods=["POST"]),
            Route("/logout", self._logout, methods=["GET"]),
            Route("/register", self._register_page, methods=["GET", "POST"]),
        ]

    async def _login(self, request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=8)
        username, password = form.get("username", ""), form.get("password", "")
        if not isinstance(username, str) or not isinstance(password, str):
            return JSONResponse({"detail": WRONG}, status_code=400)
        client = request.client.host if request.client else "unknown"
        try:
            ok = await self.sign_in(username, password, client)
        except DatabaseUnavailableError:
            return JSONResponse({"detail": UNAVAILABLE}, status_code=503)
        if ok is None:
            return JSONResponse({"detail": BUSY}, status_code=429)
        if not ok:
            return JSONResponse({"detail": WRONG}, status_code=400)
        email = normalize_email(username)
        token = secrets.token_urlsafe(32)
        try:
            await run_in_threadpool(self.store.start_session, email, token)
        except DatabaseUnavailableError:
            return JSONResponse({"detail": UNAVAILABLE}, status_code=503)
        response = JSONResponse({"success": True})
        secure, plain = _cookie_names(request)
        # The same two cookies as Gradio's own sign-in (the second for plain-HTTP clients).
        response.set_cookie(secure, token, httponly=True, samesite="none", secure=True)
        response.set_cookie(plain, token, httponly=True)
        return response

    async def _logout(self, request: Request) -> Response:
        """Gradio's ``/logout``, over the shared sessions: ends every session of the user
        (``?all_session=false``: only this one) and goes back to the sign-in page."""
        names = _cookie_names(request)
        token = request.cookies.get(names[0]) or request.cookies.get(names[1])
        if token:
            with contextlib.suppress(DatabaseUnavailableError):
                if request.query_params.get("all_session", "true").lower() == "false":
                    await run_in_threadpool(self.store.end_session, token)
                elif (user := await run_in_threadpool(self.sessions.get, token)) is not None:
                    await run_in_threadpool(self.store.end_sessions, user)
        home = request.scope.get("root_path", "").rstrip("/") + "/"
        response = RedirectResponse(home, status_code=302)
        for name in names:
            response.delete_cookie(name, path="/")
        return response

    def install(self, app: Any) -> None:
        """At the server's start: Gradio's session table becomes the database's, and the
        cookies' names come from the database, so every process serving this database
        accepts every session."""
        app.tokens = self.sessions
        app.cookie_id = self.store.setting("cookie_id")

    async def expire_sessions(self, app: Any) -> None:
        """Background job for the app's lifespan: deletes sessions older than
        ``session_seconds`` (they are refused from that moment anyway)."""
        while True:
            await asyncio.sleep(max(0.5, min(60.0, self.session_seconds / 4)))
            with contextlib.suppress(DatabaseUnavailableError):
                await run_in_threadpool(self.store.end_expired_sessions, self.session_seconds)

    async def _register_page(self, request: Request) -> Response:
        home = request.scope.get("root_path", "").rstrip("/") + "/"
        if not self.signup:
            return HTMLResponse(CLOSED.format(home=home), status_code=403)
        if request.method == "GET":
            return self._form(home)
        form = await request.form(max_files=0, max_fields=8)
        fields = {name: str(form.get(name, "")) for name in ("email", "password", "confirm")}
        problem = registration_problem(fields["email"], fields["password"], fields["confirm"])
        if problem is not None:
            return self._form(home, fields["email"], problem, status=400)
        client = request.client.host if request.client else "unknown"
        if not self.registrations.allow(client):
            problem = "Too many new accounts from your address; try again in an hour."
            return self._form(home, fields["email"], problem, status=429)
        try:
            problem = await self._hash(
                self.register, fields["email"], fields["password"], fields["confirm"]
            )
        except BusyError:
            return self._form(home, fields["email"], BUSY, status=429)
        except DatabaseUnavailableError:
            return self._form(home, fields["email"], UNAVAILABLE, status=503)
        if problem is not None:
            return self._form(home, fields["email"], problem, status=400)
        return RedirectResponse(home, status_code=303)

    @staticmethod
    def _form(home: str, email: str = "", problem: str = "", status: int = 200) -> HTMLResponse:
        message = f'<p class="error" role="alert">{html.escape(problem)}</p>' if problem else ""
        page = PAGE.format(
            message=message,
            email=html.escape(email, quote=True),
            min_password=MIN_PASSWORD,
            home=html.escape(home, quote=True),
        )
        return HTMLResponse(page, status_code=status)
