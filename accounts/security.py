"""Passwords, the rules for new accounts, and the slow-down after failed sign-ins.

Passwords are kept only as salted ``hashlib.scrypt`` hashes and compared in constant time.
An unknown email costs the same scrypt work as a wrong password, and both get the same
answer, so a sign-in attempt does not tell whether an account exists.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

#: scrypt cost: n=2**14, r=8 (16 MB, about 50 ms per check on a laptop core).
SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES = 2**14, 8, 1, 32
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
MAX_EMAIL = 254


def normalize_email(email: str) -> str:
    """Accounts are one per address, whatever its case, surrounding spaces or Unicode
    compatibility form: NFKC folds fullwidth and other look-alike forms of ASCII letters
    (fullwidth ``alice@...`` is ``alice@...``), then the address is lower-cased."""
    return unicodedata.normalize("NFKC", email).strip().lower()


def email_problem(email: str) -> str | None:
    """Why ``email`` (normalised or not) cannot name a new account, or None. Only plain
    ASCII addresses are accepted: a Cyrillic letter a (U+0430) or a zero-width space could
    otherwise make an account that looks exactly like someone else's. Syntax by
    ``email-validator``."""
    address = normalize_email(email)
    if not address or len(address) > MAX_EMAIL:
        return "That is not a valid email address."
    if not address.isascii() or not address.isprintable():
        return (
            "Use a plain email address: ASCII letters, digits and punctuation only "
            "(no accented or look-alike characters)."
        )
    try:
        validate_email(
            address,
            check_deliverability=False,
            allow_smtputf8=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError:
        return "That is not a valid email address."
    return None


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2**26, dklen=KEY_BYTES
    )


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64 parts) with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    encode = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt).decode()}${encode(key).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a :func:`hash_password` string (constant-time compare)."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


_DUMMY_HASH: str | None = None


def burn_password_check(password: str) -> None:
    """Spend the time of one password check, for an email that has no account."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(12))
    verify_password(password, _DUMMY_HASH)


def registration_problem(email: str, password: str, confirm: str) -> str | None:
    """Why this registration cannot be accepted (a sentence), or None when it can."""
    problem = email_problem(email)
    if problem is not None:
        return problem
    if len(password) < MIN_PASSWORD:
        return f"The password must have at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"The password must have at most {MAX_PASSWORD} characters."
    if password != confirm:
        return "The two passwords do not match."
    return None


@dataclass
class _Slot:
    attempts: int = 0  # attempts since the last success (or since forgotten)
    next_free: float = 0.0  # the earliest time the next attempt may be checked
    waiting: bool = False  # an attempt is waiting for next_free
    last: float = 0.0


class LoginThrottle:
    """Slows down guessing so that parallel requests cannot outrun it.

    Each key (an account, a client address, or both) has a schedule: the first ``free``
    attempts are checked at once; after that, each attempt must wait ``base`` seconds,
    doubling with every further attempt up to ``ceiling``, counted from the previous
    attempt's slot. An attempt is *counted when it starts*, not when its check fails, and at
    most one attempt per key may be waiting for its slot: a burst of 30 parallel guesses gets
    ``free`` checks, one waiting attempt, and 28 immediate refusals that check nothing.
    Attempts older than ``forget`` seconds are forgotten; :meth:`finish` with success resets
    the keys it is told to.
    """

    def __init__(
        self,
        free: int = 3,
        base: float = 0.5,
        ceiling: float = 30.0,
        forget: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.free, self.base, self.ceiling, self.forget = free, base, ceiling, forget
        self.clock = clock
        self.max_keys = max_keys
        self._slots: dict[str, _Slot] = {}
        self._lock = threading.Lock()

    def _slot(self, key: str, now: float) -> _Slot:
        slot = self._slots.get(key)
        if slot is not None and not slot.waiting and now - slot.last > self.forget:
            slot = None
        if slot is None:
            if len(self._slots) >= self.max_keys:  # bounded memory under a spray of keys
                self._slots.pop(next(iter(self._slots)))
            slot = self._slots[key] = _Slot()
        return slot

    def admit(self, keys: Sequence[str]) -> float | None:
        """Count an attempt for every key: the seconds it must wait before its check, or None
        when it is refused unchecked (an attempt for one of the keys is already waiting, or
        the wait would pass the ceiling). Call :meth:`finish` after every admitted attempt."""
        with self._lock:
            now = self.clock()
            slots = [self._slot(key, now) for key in keys]
            if any(slot.waiting for slot in slots):
                return None
            wait = max([0.0, *(slot.next_free - now for slot in slots)])
            if wait > self.ceiling:
                return None
            for slot in slots:
                slot.attempts += 1
                slot.last = now
                if slot.attempts >= self.free:
                    delay = self.base * 2.0 ** (slot.attempts - self.free)
                    slot.next_free = max(now, slot.next_free) + min(self.ceiling, delay)
                slot.waiting = wait > 0
            return wait

    def finish(
        self, keys: Sequence[str], reset: Sequence[str] = (), refund: Sequence[str] = ()
    ) -> None:
        """An admitted attempt for ``keys`` is over. After a success, ``reset`` lists the keys
        whose count it clears, and ``refund`` those for which this one attempt is not
        counted after all (empty after a failure)."""
        with self._lock:
            for key in keys:
                if key in self._slots:
                    self._slots[key].waiting = False
            for key in refund:
                if key in self._slots:
                    self._slots[key].attempts = max(0, self._slots[key].attempts - 1)
            for key in reset:
                self._slots.pop(key, None)


class RateLimit:
    """At most ``count`` events per key in any ``period`` seconds (a sliding window)."""

    def __init__(
        self, count: int, period: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.count, self.period, self.clock = count, period, clock
        self._events: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Record an event for ``key`` if the limit allows it; False (nothing recorded) if not."""
        with self._lock:
            now = self.clock()
            if len(self._events) > 100_000:
                self._events.clear()
            recent = [t for t in self._events.get(key, []) if now - t < self.period]
            if len(recent) >= self.count:
                self._events[key] = recent
                return False
            self._events[key] = [*recent, now]
            return True
