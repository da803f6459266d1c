"""The administrator's commands (``app.py --add-user``, ``--export-corrections``): they work
on the accounts database directly, without the web stack."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from .export import export_corrections
from .security import hash_password, normalize_email, registration_problem
from .store import Store, StoreError, is_postgres_url


def open_store(path: str) -> Store:
    """The accounts database, or one line on stderr and exit status 2."""
    try:
        return Store(path)
    except StoreError as error:
        print(f"app.py: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def read_new_password() -> str:
    """A prompt (twice) on a terminal, otherwise the first line of standard input."""
    if sys.stdin is not None and sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise ValueError("The two passwords do not match.")
        return password
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


def add_user(store: Store, email: str, password: str | None = None) -> int:
    """``--add-user``: 0 when the account was made, 1 (with the reason on stderr) when
    refused. The password is asked for (:func:`read_new_password`) unless given."""
    if password is None:
        try:
            password = read_new_password()
        except (ValueError, EOFError, KeyboardInterrupt) as error:
            print(f"app.py: {error or 'cancelled'}", file=sys.stderr)
            return 1
    problem = registration_problem(email, password, password)
    address = normalize_email(email)
    if problem is None and store.user(address) is not None:
        problem = f"An account for {address} exists already."
    if problem is not None:
        print(f"app.py: {problem}", file=sys.stderr)
        return 1
    store.add_user(address, hash_password(password))
    print(f"added {address} to {store.location}")
    return 0


def export(db: str, directory: str) -> int:
    """``--export-corrections``: write the users' corrected samples to ``directory``."""
    if not is_postgres_url(db) and not Path(db).is_file():
        print(f"app.py: there is no database at {db}", file=sys.stderr)
        return 2
    try:
        written, skipped = export_corrections(open_store(db), directory)
    except OSError as error:
        print(f"app.py: cannot write {directory}: {error}", file=sys.stderr)
        return 2
    print(
        f"wrote {written} corrected sample(s) to {directory}"
        + (f" ({skipped} corrections skipped: digit count does not match)" if skipped else "")
    )
    return 0
