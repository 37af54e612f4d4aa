"""Accounts of people who sign in with a login ID and password (merchants and operators), their
sessions, and the record that limits password guessing.

Invariants:
- A login ID is unique, compared case-insensitively; only the scrypt hash of a password is stored.
- ``generation`` changes whenever every session of the account must end (password change, reset,
  revocation): a session is only ever created on condition that the generation is still the one its
  login read, so no login racing a revocation survives it.
- ``Attempts`` counts, within a window, the password checks started (``checks``) and failed
  (``failures``) for one login ID, existing or not. At most ``MAX_CHECKS`` checks run in a window and
  ``MAX_FAILURES`` failures lock the ID until the window ends.
- A session ends at ``expires_at`` (idle time, pushed forward by use) and never after
  ``absolute_expires_at``.
- A merchant account is one person of the business (SPEC §6a). ``staff_role`` is ``owner``,
  ``manager`` or ``clerk``; an account with none (every merchant login made before staff existed, and
  the login made with the merchant) reads as the owner, with staff id ``owner``. ``store_ids`` None
  means every shop of the merchant. A ``disabled`` account (the owner's decision) cannot sign in and
  has no session; it is apart from ``status`` (the operator's revocation), so restoring a merchant's
  access never re-enables someone its owner disabled.
"""

from __future__ import annotations

import datetime as dt

import msgspec

ROLES = ("merchant", "operator")
OWNER, MANAGER, CLERK = "owner", "manager", "clerk"
STAFF_ROLES = (OWNER, MANAGER, CLERK)
OWNER_STAFF_ID = "owner"  # the staff id of a merchant login that has no staff record of its own
ACTIVE, REVOKED = "active", "revoked"
MAX_CHECKS = MAX_FAILURES = 5
WINDOW = dt.timedelta(minutes=15)


class Account(msgspec.Struct, frozen=True):
    login_id: str
    role: str
    merchant_id: str | None
    password_hash: str
    created_at: dt.datetime
    password_set_at: dt.datetime
    must_change_password: bool = False
    status: str = ACTIVE
    generation: int = 0
    staff_id: str | None = None
    staff_role: str | None = None
    store_ids: tuple[str, ...] | None = None
    name: str = ""
    disabled: bool = False

    @property
    def effective_staff_role(self) -> str | None:
        """A merchant login's role among its staff (``owner`` when it has no staff record)."""
        if self.role != "merchant":
            return None
        return self.staff_role or OWNER

    @property
    def effective_staff_id(self) -> str | None:
        if self.role != "merchant":
            return None
        return self.staff_id or OWNER_STAFF_ID

    @property
    def can_sign_in(self) -> bool:
        return self.status == ACTIVE and not self.disabled


class Attempts(msgspec.Struct, frozen=True):
    checks: int = 0
    failures: int = 0
    window_until: dt.datetime | None = None

    def open_at(self, now: dt.datetime) -> bool:
        """True when this record's window is still running (else it counts for nothing)."""
        return self.window_until is not None and self.window_until > now

    def locked(self, now: dt.datetime) -> bool:
        return self.open_at(now) and self.failures >= MAX_FAILURES


class Session(msgspec.Struct, frozen=True):
    session_id: str
    login_id: str
    role: str
    merchant_id: str | None
    must_change_password: bool
    generation: int
    created_at: dt.datetime
    refreshed_at: dt.datetime
    expires_at: dt.datetime
    absolute_expires_at: dt.datetime
    staff_id: str | None = None
    staff_role: str | None = None
    store_ids: tuple[str, ...] | None = None

    def valid_at(self, now: dt.datetime) -> bool:
        return now < self.expires_at and now < self.absolute_expires_at
