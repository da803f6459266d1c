"""Passwords, the rules for new accounts, and the slow-down after failed sign-ins.

Passwords are kept only as salted ``hashlib.scrypt`` hashes and compared in constant time.
An unknown email costs the same scrypt work as a wrong password, and both get the same
answer, so a sign-in attempt does not tell whether an account exists.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable

#: scrypt cost: n=2**14, r=8 (16 MB, about 50 ms per check on a laptop core).
SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES = 2**14, 8, 1, 32
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def normalize_email(email: str) -> str:
    """Accounts are one per address, whatever its case or surrounding spaces."""
    return email.strip().lower()


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
    address = normalize_email(email)
    if not address or len(address) > 254 or not EMAIL.match(address):
        return "That is not a valid email address."
    if len(password) < MIN_PASSWORD:
        return f"The password must have at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"The password must have at most {MAX_PASSWORD} characters."
    if password != confirm:
        return "The two passwords do not match."
    return None


class LoginThrottle:
    """Slows down guessing: after ``free`` failed sign-ins for one email, each further attempt
    waits ``base`` seconds, doubling with every failure up to ``ceiling``. A success clears
    the count; failures older than ``forget`` seconds are forgotten. Counted per email as
    typed (normalised), whether or not the account exists."""

    def __init__(
        self,
        free: int = 3,
        base: float = 0.5,
        ceiling: float = 30.0,
        forget: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free, self.base, self.ceiling, self.forget = free, base, ceiling, forget
        self.clock = clock
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def delay(self, email: str) -> float:
        """Seconds to wait before checking a password for ``email``."""
        with self._lock:
            count, last = self._failures.get(normalize_email(email), (0, 0.0))
            if count and self.clock() - last > self.forget:
                del self._failures[normalize_email(email)]
                count = 0
        if count < self.free:
            return 0.0
        return min(self.ceiling, self.base * 2.0 ** (count - self.free))

    def failed(self, email: str) -> None:
        key = normalize_email(email)
        with self._lock:
            count, _ = self._failures.get(key, (0, 0.0))
            self._failures[key] = (count + 1, self.clock())
            if len(self._failures) > 100_000:  # bounded memory under a spray of emails
                oldest = min(self._failures, key=lambda k: self._failures[k][1])
                del self._failures[oldest]

    def succeeded(self, email: str) -> None:
        with self._lock:
            self._failures.pop(normalize_email(email), None)
