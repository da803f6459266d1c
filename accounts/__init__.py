"""Accounts and history for the web app: users, sign-in, registration and each user's
recognitions with their corrections, in one SQLite file or a PostgreSQL database.

    store = Store("digits.db")                  # created and migrated on first use
    store = Store("postgresql://u:p@host/db")   # the same, shared by several processes
    accounts = Accounts(store, signup=True)     # Gradio's auth callable and /register
    export_corrections(store, "corrections/")   # for ``train.py --extra corrections/``
                                                # (read back by training.samples)
"""

from .export import export_corrections
from .security import LoginThrottle, hash_password, normalize_email, verify_password
from .store import EmailTakenError, Entry, Store, StoreError, User
from .web import Accounts

__all__ = [
    "Accounts",
    "EmailTakenError",
    "Entry",
    "LoginThrottle",
    "Store",
    "StoreError",
    "User",
    "export_corrections",
    "hash_password",
    "normalize_email",
    "verify_password",
]
