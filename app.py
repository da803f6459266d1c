"""The web app: draw or upload a digit, or a whole number, and see what the network sees.

    python app.py [--weights PATH] [--host H] [--port P] [--share]   # public demo
    python app.py --accounts [--db PATH] [--no-signup]   # sign-in required, history kept
    python app.py --db PATH --add-user EMAIL             # password from a prompt or stdin
    python app.py --db PATH --export-corrections DIR     # for train.py --extra DIR

Endpoints (for gradio_client): ``/predict_sketch`` (a Sketchpad value), ``/predict_upload``
(an image file) and ``/read_number`` (an image file). The first output of the two predict
endpoints is the Label's value. With ``--accounts`` also ``/history`` (``limit`` -> the
user's entries, newest first) and ``/correct`` (``entry``, ``digits`` -> the entry), each
seeing only the signed-in user's own history. All recognition goes through
``recognition.Recognizer``, the same pipeline as ``recognize.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from accounts import admin
from recognition.recognizer import DEFAULT_WEIGHTS
from webapp import CACHE_SECONDS
from webapp.guard import normalize_origin

ROOT = Path(__file__).resolve().parent
DEFAULT_DB = "digits.db"
#: Sign-ins expire after this many hours.
SESSION_HOURS = 12.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve the handwritten digit recognizer.")
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help="model file")
    parser.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        help="address to listen on (default: $GRADIO_SERVER_NAME or 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        help="port (default: $GRADIO_SERVER_PORT or 7860)",
    )
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public link")
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="also accept requests from pages at ORIGIN (scheme://host[:port]), e.g. a site "
        "that embeds the app; repeatable. Other sites' requests are refused.",
    )
    parser.add_argument(
        "--cache-seconds",
        type=int,
        default=CACHE_SECONDS,
        help=f"delete uploads and outputs this old (default {CACHE_SECONDS})",
    )
    accounts = parser.add_argument_group("accounts and history")
    accounts.add_argument(
        "--accounts", action="store_true", help="require sign-in and keep each user's history"
    )
    accounts.add_argument(
        "--db",
        default=None,
        help=f"the accounts database: a SQLite file (default: ./{DEFAULT_DB}) or "
        "postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME; $DATABASE_URL, when set, is the "
        "default and turns accounts on (keeps the password out of the process list)",
    )
    accounts.add_argument(
        "--no-signup", action="store_true", help="no self-registration: only --add-user"
    )
    accounts.add_argument(
        "--session-hours",
        type=float,
        default=SESSION_HOURS,
        help=f"sign-ins expire after this many hours (default {SESSION_HOURS:g})",
    )
    accounts.add_argument(
        "--add-user",
        metavar="EMAIL",
        help="add an account and exit (password from a prompt, or stdin's first line)",
    )
    accounts.add_argument(
        "--export-corrections",
        metavar="DIR",
        help="write the users' corrected samples to DIR (for train.py --extra DIR) and exit",
    )
    args = parser.parse_args(argv)
    database_url = os.environ.get("DATABASE_URL", "").strip()
    if database_url and not args.db:
        args.db = database_url
        if not (args.add_user or args.export_corrections):
            args.accounts = True  # a hosted app given a database keeps accounts in it
    if args.add_user and args.export_corrections:
        parser.error("--add-user and --export-corrections are separate runs")
    admin = args.add_user or args.export_corrections
    if not args.accounts and not admin and (args.db or args.no_signup):
        parser.error("--db and --no-signup need --accounts (python app.py alone is public)")
    if admin and (args.accounts or args.share):
        parser.error(
            "--add-user and --export-corrections do their work and exit; run the app "
            "with --accounts separately"
        )
    try:
        args.allow_origin = [normalize_origin(origin) for origin in args.allow_origin]
    except ValueError as error:
        parser.error(str(error))
    if args.cache_seconds < 60:
        parser.error("--cache-seconds must be at least 60")
    if not args.session_hours > 0:
        parser.error("--session-hours must be positive")
    args.db = args.db or DEFAULT_DB
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.add_user:
        return admin.add_user(admin.open_store(args.db), args.add_user)
    if args.export_corrections:
        return admin.export(args.db, args.export_corrections)
    # A database that cannot be used is refused before the web stack loads.
    store = admin.open_store(args.db) if args.accounts else None
    from webapp.server import serve  # Gradio: only for serving

    return serve(args, store)


if __name__ == "__main__":
    sys.exit(main())
