"""Serving the app: the recognizer, the accounts (when asked for), the request guard, and
Gradio's server. ``app.py`` calls :func:`serve` with its parsed command line."""

from __future__ import annotations

import argparse
from typing import Any

import gradio as gr

from accounts import Accounts, Store
from recognition import Recognizer
from webapp.guard import RequestGuard, guarded_lifespan
from webapp.inputs import MAX_UPLOAD_BYTES
from webapp.layout import build_app
from webapp.page import CSS, HEAD


def serve(args: argparse.Namespace, store: Store | None = None) -> int:
    """Run the app as ``args`` (``app.py``'s options) say until interrupted; ``store``: the
    accounts database (``--accounts``), opened and checked already."""
    recognizer = Recognizer.load_or_exit(args.weights, "app.py")
    demo = build_app(recognizer, store, args.cache_seconds)
    login: dict[str, Any] = {}
    jobs = []
    startup = []
    app_kwargs: dict[str, Any] = {}
    if store is not None:
        accounts = Accounts(
            store, signup=not args.no_signup, session_seconds=args.session_hours * 3600
        )
        login = {"auth": accounts.authenticate, "auth_message": accounts.auth_message}
        app_kwargs["routes"] = accounts.routes()
        jobs.append(accounts.expire_sessions)
        startup.append(accounts.install)
        print(
            f"accounts: {store.location} ({store.user_count()} users); sign-in required"
            + ("" if args.no_signup else ", self-registration at /register")
        )
    app_kwargs["lifespan"] = guarded_lifespan(
        lambda app: RequestGuard(app, allowed_origins=args.allow_origin), jobs, startup
    )
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        max_file_size=MAX_UPLOAD_BYTES,
        app_kwargs=app_kwargs,
        css=CSS,
        head=HEAD,
        theme=gr.themes.Soft(),
        prevent_thread_lock=True,
        quiet=False,
        **login,
    )
    if args.share and not demo.share_url:
        print("app.py: no public link could be made (no network?); serving locally only.")
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        demo.close()
    return 0
