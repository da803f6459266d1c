"""What every request meets before Gradio sees it: origin, body size, component calls.

A shared link is served to strangers, so each request is hostile until proven otherwise.
:class:`RequestGuard` is an ASGI middleware placed outside all of Gradio's own (see
:func:`guarded_lifespan`); it refuses, before any work is done:

- a request whose ``Origin`` is neither the app's own (the ``Host`` it was sent to) nor one
  given with ``--allow-origin``: 403. Browsers send ``Origin`` with every cross-site
  ``fetch``, form post and WebSocket, so a page elsewhere can neither read a signed-in user's
  data nor post to ``/login`` or ``/register`` in their name;
- a request body over its path's limit (413): a few KB for the sign-in forms, 1 MB for
  Gradio's JSON calls; uploads are bounded by Gradio's own ``max_file_size``;
- a call to ``/gradio_api/component_server`` that is not one of the page's own server
  functions (the image editor's ``accept_blobs`` allocates by a client-given index).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Body limits in bytes, by path prefix (the first match wins); None: not buffered here.
FORM_BODY_LIMIT = 16 * 1024
JSON_BODY_LIMIT = 1024 * 1024
UPLOAD_PATH = "/gradio_api/upload"
COMPONENT_SERVER_PATH = "/gradio_api/component_server"
FORM_PATHS = ("/login", "/logout", "/register")


def normalize_origin(origin: str) -> str:
    """``"HTTPS://Example.org:443/"`` -> ``"https://example.org:443"`` (scheme://netloc)."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an origin (scheme://host[:port]): {origin!r}")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def origin_allowed(origin: str, host: str | None, allowed: frozenset[str]) -> bool:
    """Whether a request with this ``Origin`` header, sent to ``host``, comes from the app's
    own page (same host and port) or from an origin in ``allowed`` (normalised)."""
    try:
        normalised = normalize_origin(origin)
    except ValueError:
        return False  # "null" (sandboxed frames, file:// pages) and anything malformed
    if normalised in allowed:
        return True
    return host is not None and urlsplit(normalised).netloc == host.strip().lower()


class RequestGuard:
    """ASGI middleware: refuses foreign origins, oversized bodies and component-server calls
    that are not in ``server_functions``; everything else passes to ``app`` unchanged."""

    def __init__(
        self,
        app: ASGIApp,
        allowed_origins: Iterable[str] = (),
        server_functions: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.allowed_origins = frozenset(normalize_origin(o) for o in allowed_origins)
        self.server_functions = frozenset(server_functions)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is not None and not origin_allowed(
            origin, headers.get("host"), self.allowed_origins
        ):
            await _refuse(scope, receive, send, 403, "cross-site requests are not accepted")
            return
        if scope["type"] == "websocket" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        path = _route_path(scope)
        if path.startswith(UPLOAD_PATH):
            await self.app(scope, receive, send)
            return
        limit = FORM_BODY_LIMIT if path.rstrip("/") in FORM_PATHS else JSON_BODY_LIMIT
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(scope, receive, send, 413, "the request is too large")
            return
        body, more = await _read_body(receive, limit)
        if body is None:
            await _refuse(scope, None, send, 413, "the request is too large")
            return
        if path.rstrip("/") == COMPONENT_SERVER_PATH and not self._known_server_call(headers, body):
            await _refuse(scope, None, send, 403, "this component call is not accepted")
            return
        await self.app(scope, _replay(body, more, receive), send)

    def _known_server_call(self, headers: Headers, body: bytes) -> bool:
        if not headers.get("content-type", "").startswith("application/json"):
            return False  # multipart: file blobs, which no component of this page takes
        try:
            call = json.loads(body)
        except ValueError:
            return False
        return isinstance(call, dict) and call.get("fn_name") in self.server_functions


def _route_path(scope: Scope) -> str:
    root = scope.get("root_path", "")
    path = scope.get("path", "")
    return path[len(root) :] if root and path.startswith(root) else path


async def _read_body(receive: Receive, limit: int) -> tuple[bytes | None, bool]:
    """The whole body if it is at most ``limit`` bytes, else None; and whether the client is
    still connected (False after a disconnect message)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None, True
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replay(body: bytes, connected: bool, receive: Receive) -> Receive:
    """A ``receive`` that hands the buffered body over once, then the real one's messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if not connected:
            return {"type": "http.disconnect"}
        return await receive()

    return replay


async def _refuse(
    scope: Scope, receive: Receive | None, send: Send, status: int, reason: str
) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": reason})
        return
    response = JSONResponse({"detail": reason}, status_code=status)

    async def nothing() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, receive or nothing, send)


def guarded_lifespan(
    wrap: Callable[[ASGIApp], ASGIApp],
    jobs: Iterable[Callable[[Any], Awaitable[None]]] = (),
    startup: Iterable[Callable[[Any], None]] = (),
) -> Callable[[Any], contextlib.AbstractAsyncContextManager[None]]:
    """A FastAPI ``lifespan`` (for ``launch(app_kwargs={"lifespan": ...})``) that wraps the
    app's whole middleware stack in ``wrap`` when the server starts, before the first
    request, so the guard stands outside Gradio's own middleware (its CORS answers
    included), calls each of ``startup(app)`` then, and runs each of ``jobs(app)`` as a
    background task until shutdown."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        for step in startup:
            step(app)
        if app.middleware_stack is None:
            app.middleware_stack = app.build_middleware_stack()
        app.middleware_stack = wrap(app.middleware_stack)
        tasks = [asyncio.create_task(job(app)) for job in jobs]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()

    return lifespan
