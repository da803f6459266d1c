"""Users and their recognition history in one SQLite file (stdlib ``sqlite3``, no server).

The file is marked as ours (``PRAGMA application_id``) and versioned (``PRAGMA
user_version``); :data:`MIGRATIONS` brings an older file up to date when the app starts.
A file that is not SQLite, is damaged, belongs to another program or was written by a newer
version of this app raises :class:`StoreError` and is left exactly as it was.

Every write is one transaction (``BEGIN IMMEDIATE ... COMMIT``) in WAL mode with
``synchronous=FULL``: readers never wait for writers, and an answered recognition survives
the process being killed.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

#: ``PRAGMA application_id`` of our databases ("DGIT"): a file without it is someone else's.
APPLICATION_ID = 0x44474954

#: Schema migrations; the database's ``user_version`` is how many of them it has.
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE recognitions (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('digit', 'number')),
            source TEXT NOT NULL,
            answer TEXT,
            confidence REAL NOT NULL,
            thumbnail BLOB,
            inputs BLOB NOT NULL,
            input_count INTEGER NOT NULL,
            correction TEXT,
            corrected_at TEXT
        )""",
        "CREATE INDEX recognitions_by_user ON recognitions (user_id, id DESC)",
    ],
]


class StoreError(Exception):
    """The database file cannot be used; the message says why and what to do."""


class EmailTakenError(ValueError):
    """An account with this email exists already."""


@dataclass
class User:
    id: int
    email: str
    password_hash: str


@dataclass
class Entry:
    """One stored recognition. ``inputs`` is ``(input_count, 28, 28)`` uint8, white ink on
    black: what the network saw, one image per digit of the answer."""

    id: int
    created_at: str
    mode: str
    source: str
    answer: str | None
    confidence: float
    thumbnail: bytes | None
    inputs: np.ndarray
    correction: str | None
    corrected_at: str | None

    def to_json(self) -> dict:
        """The fields an API client gets (no image data)."""
        return {
            "id": self.id,
            "time": self.created_at,
            "mode": self.mode,
            "source": self.source,
            "answer": self.answer,
            "confidence": round(self.confidence, 4),
            "correction": self.correction,
        }


def now() -> str:
    """The current UTC time as ``YYYY-MM-DD HH:MM:SS``."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _pack(inputs: np.ndarray) -> tuple[bytes, int]:
    """``(N, 28, 28)`` floats in [0, 1] or uint8 -> (N*784 bytes, N)."""
    array = np.asarray(inputs)
    if array.dtype != np.uint8:
        array = np.round(np.clip(array, 0.0, 1.0) * 255).astype(np.uint8)
    array = array.reshape(-1, 28, 28)
    return array.tobytes(), len(array)


def _entry(row: sqlite3.Row) -> Entry:
    inputs = np.frombuffer(row["inputs"], dtype=np.uint8).reshape(row["input_count"], 28, 28)
    return Entry(
        id=row["id"],
        created_at=row["created_at"],
        mode=row["mode"],
        source=row["source"],
        answer=row["answer"],
        confidence=row["confidence"],
        thumbnail=row["thumbnail"],
        inputs=inputs,
        correction=row["correction"],
        corrected_at=row["corrected_at"],
    )


class Store:
    """The accounts database at ``path``, created (and migrated) on first use.

    Thread-safe: each thread gets its own connection.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a directory, not a database file")
        if not self.path.parent.is_dir():
            raise StoreError(f"the folder {self.path.parent} does not exist")
        try:
            self._open()
        except sqlite3.DatabaseError as error:
            raise StoreError(
                f"{self.path} is not a usable database ({error}); it was left untouched. "
                "Move it away or give another file with --db."
            ) from None

    # -- connections and transactions -------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("PRAGMA busy_timeout = 30000")
            self._local.connection = connection
        return connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything inside commits together or not at all."""
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _open(self) -> None:
        connection = self._connection()
        application_id = connection.execute("PRAGMA application_id").fetchone()[0]
        tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if application_id != APPLICATION_ID and (application_id != 0 or tables > 0):
            raise StoreError(
                f"{self.path} is a SQLite database of another program (application_id "
                f"{application_id:#x}); it was left untouched. Give another file with --db."
            )
        check = connection.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise StoreError(f"{self.path} is damaged ({check}); it was left untouched.")
        if connection.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
            raise StoreError(f"{self.path}: cannot switch the database to WAL mode")
        with self.transaction() as tx:
            version = tx.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise StoreError(
                    f"{self.path} has schema version {version}, newer than this app's "
                    f"{len(MIGRATIONS)}; update the app, the file was left untouched."
                )
            for number in range(version, len(MIGRATIONS)):
                for statement in MIGRATIONS[number]:
                    tx.execute(statement)
            tx.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
            tx.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    @property
    def schema_version(self) -> int:
        return self._connection().execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    # -- users ------------------------------------------------------------------------------

    def add_user(self, email: str, password_hash: str) -> int:
        """A new account; ``email`` must be normalised already. Raises :class:`EmailTakenError`."""
        try:
            with self.transaction() as tx:
                cursor = tx.execute(
                    "INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, ?)",
                    (email, password_hash, now()),
                )
        except sqlite3.IntegrityError:
            raise EmailTakenError(f"an account for {email} exists already") from None
        return int(cursor.lastrowid)

    def user(self, email: str) -> User | None:
        row = (
            self._connection()
            .execute("SELECT id, email, password_hash FROM users WHERE email = ?", (email,))
            .fetchone()
        )
        return None if row is None else User(row["id"], row["email"], row["password_hash"])

    def user_count(self) -> int:
        return self._connection().execute("SELECT count(*) FROM users").fetchone()[0]

    # -- history ----------------------------------------------------------------------------

    def record(
        self,
        email: str,
        mode: str,
        source: str,
        answer: str | None,
        confidence: float,
        thumbnail: bytes | None,
        inputs: np.ndarray,
        replace: int | None = None,
    ) -> int:
        """Store one recognition for ``email``'s account and return its id.

        ``inputs``: ``(N, 28, 28)`` in [0, 1] (or uint8), one per digit of ``answer``.
        ``replace``: the id of this user's entry to overwrite instead (a drawing that grew
        stroke by stroke stays one entry); ignored when it is not theirs.
        """
        blob, count = _pack(inputs)
        values = (now(), mode, source, answer, float(confidence), thumbnail, blob, count)
        with self.transaction() as tx:
            user = tx.execute("SELECT id FROM users WHERE email = ?", (email,)).fetchone()
            if user is None:
                raise KeyError(f"no account for {email}")
            if replace is not None:
                cursor = tx.execute(
                    "UPDATE recognitions SET created_at = ?, mode = ?, source = ?, answer = ?, "
                    "confidence = ?, thumbnail = ?, inputs = ?, input_count = ?, "
                    "correction = NULL, corrected_at = NULL WHERE id = ? AND user_id = ?",
                    (*values, replace, user["id"]),
                )
                if cursor.rowcount == 1:
                    return replace
            cursor = tx.execute(
                "INSERT INTO recognitions (created_at, mode, source, answer, confidence, "
                "thumbnail, inputs, input_count, user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, user["id"]),
            )
            return int(cursor.lastrowid)

    def history(self, email: str, limit: int = 50) -> list[Entry]:
        """``email``'s most recent recognitions, newest first."""
        rows = (
            self._connection()
            .execute(
                "SELECT r.* FROM recognitions r JOIN users u ON u.id = r.user_id "
                "WHERE u.email = ? ORDER BY r.id DESC LIMIT ?",
                (email, max(0, int(limit))),
            )
            .fetchall()
        )
        return [_entry(row) for row in rows]

    def entry(self, email: str, entry_id: int) -> Entry | None:
        """One of ``email``'s entries, or None when it does not exist or is someone else's."""
        row = (
            self._connection()
            .execute(
                "SELECT r.* FROM recognitions r JOIN users u ON u.id = r.user_id "
                "WHERE u.email = ? AND r.id = ?",
                (email, int(entry_id)),
            )
            .fetchone()
        )
        return None if row is None else _entry(row)

    def correct(self, email: str, entry_id: int, correction: str) -> Entry:
        """Record the right answer for one of ``email``'s entries.

        Raises ``KeyError`` when the entry does not exist or is not theirs (the same answer
        for both, so nobody learns which ids other users have).
        """
        with self.transaction() as tx:
            cursor = tx.execute(
                "UPDATE recognitions SET correction = ?, corrected_at = ? WHERE id = ? "
                "AND user_id = (SELECT id FROM users WHERE email = ?)",
                (correction, now(), int(entry_id), email),
            )
            if cursor.rowcount != 1:
                raise KeyError(f"there is no entry #{entry_id} in your history")
            row = tx.execute("SELECT * FROM recognitions WHERE id = ?", (entry_id,)).fetchone()
        return _entry(row)

    def corrections(self) -> list[tuple[str, Entry]]:
        """Every corrected entry of every user, oldest first, as ``(email, entry)``."""
        rows = (
            self._connection()
            .execute(
                "SELECT u.email AS email, r.* FROM recognitions r JOIN users u "
                "ON u.id = r.user_id WHERE r.correction IS NOT NULL ORDER BY r.id"
            )
            .fetchall()
        )
        return [(row["email"], _entry(row)) for row in rows]
