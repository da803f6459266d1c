"""Sign-in and self-registration for the Gradio app.

:class:`Accounts` gives Gradio its ``auth`` callable (an async function, so the scrypt check
and the slow-down after failures never block the server) and the ``/register`` page::

    GET  /register   the form: email, password, confirmation
    POST /register   fields email, password, confirm -> 303 to the sign-in page, or the form
                     again with status 400 and the reason
"""

from __future__ import annotations

import asyncio
import html

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from .security import (
    MIN_PASSWORD,
    LoginThrottle,
    burn_password_check,
    hash_password,
    normalize_email,
    registration_problem,
    verify_password,
)
from .store import EmailTakenError, Store

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


class Accounts:
    """The sign-in check and registration pages over one :class:`~accounts.store.Store`."""

    def __init__(
        self, store: Store, signup: bool = True, throttle: LoginThrottle | None = None
    ) -> None:
        self.store = store
        self.signup = signup
        self.throttle = throttle or LoginThrottle()

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

    async def authenticate(self, username: str, password: str) -> bool:
        """Gradio's ``auth``: waits out the slow-down, checks in a worker thread."""
        delay = self.throttle.delay(username)
        if delay:
            await asyncio.sleep(delay)
        if await run_in_threadpool(self.check_password, username, password):
            self.throttle.succeeded(username)
            return True
        self.throttle.failed(username)
        return False

    def register(self, email: str, password: str, confirm: str) -> str | None:
        """Create an account; returns the reason it was refused, or None."""
        problem = registration_problem(email, password, confirm)
        if problem is not None:
            return problem
        address = normalize_email(email)
        if self.store.user(address) is not None:
            return "An account with this email exists already; sign in instead."
        try:
            self.store.add_user(address, hash_password(password))
        except EmailTakenError:
            return "An account with this email exists already; sign in instead."
        return None

    def routes(self) -> list[Route]:
        """The ``/register`` routes to put in front of Gradio's own."""
        return [Route("/register", self._register_page, methods=["GET", "POST"])]

    async def _register_page(self, request: Request) -> Response:
        home = request.scope.get("root_path", "").rstrip("/") + "/"
        if not self.signup:
            return HTMLResponse(CLOSED.format(home=home), status_code=403)
        if request.method == "GET":
            return self._form(home)
        form = await request.form()
        fields = {name: str(form.get(name, "")) for name in ("email", "password", "confirm")}
        problem = await run_in_threadpool(
            self.register, fields["email"], fields["password"], fields["confirm"]
        )
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
