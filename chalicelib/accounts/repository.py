"""Where accounts, their sessions and their password-guessing records are kept (the port)."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from chalicelib.accounts.model import Account, Attempts, Session
from chalicelib.core.errors import InvalidRequest


class LoginIdTaken(InvalidRequest):
    default_message = "このログインIDはすでに使われています。"

    def __init__(self) -> None:
        super().__init__(param="login_id")


class AccountRepository(Protocol):
    # -- accounts -------------------------------------------------------------------------------
    def get(self, login_id: str) -> Account | None: ...

    def add(self, account: Account) -> None:
        """Store a new account; :class:`LoginIdTaken` when the ID exists."""

    def set_password(self, login_id: str, password_hash: str, now: dt.datetime, *, must_change: bool) -> Account:
        """Replace the hash and move the generation (every session ends); ``NotFound`` if absent."""

    def set_status(self, login_id: str, status: str, now: dt.datetime) -> Account:
        """Active or revoked; moves the generation. ``NotFound`` if absent."""

    def replace(self, old_login_id: str, account: Account) -> None:
        """The same account under a new login ID, in one transaction (``LoginIdTaken``)."""

    def set_disabled(self, login_id: str, disabled: bool, now: dt.datetime) -> Account:
        """The owner disables or enables one of its staff; moves the generation. ``NotFound`` if absent."""

    # -- merchant staff -------------------------------------------------------------------------
    def staff(self, merchant_id: str) -> list[Account]:
        """The merchant's staff accounts that have a staff record (not the login made with the merchant)."""

    def staff_member(self, merchant_id: str, staff_id: str) -> Account | None:
        """One staff account of this merchant by its staff id (None for another merchant's)."""

    # -- password guessing ------------------------------------------------------------------------
    def attempts(self, login_id: str) -> Attempts: ...

    def start_check(self, login_id: str, seen: Attempts, now: dt.datetime, window: dt.timedelta,
                    max_checks: int) -> bool:
        """Reserve one password check, on condition that the record is still ``seen``: one more check
        in its open window (while fewer than ``max_checks`` started and it is not locked), or a new
        window when ``seen`` was over. False when the record moved meanwhile (the caller re-reads)."""

    def record_failure(self, login_id: str, now: dt.datetime, window: dt.timedelta, max_failures: int) -> Attempts:
        """Count a failed check; the failure that reaches ``max_failures`` locks the ID for ``window``."""

    def record_success(self, login_id: str, max_failures: int) -> bool:
        """Clear the record unless a lock is in force (then False: the right password is refused)."""

    def clear_attempts(self, login_id: str) -> None:
        """Forget the record, lock included (an operator's reset)."""

    # -- sessions -------------------------------------------------------------------------------
    def add_session(self, session: Session) -> None:
        """Store the session on condition that the account is active, not disabled and still at the
        session's generation; ``WriteRejected({"account"})`` otherwise."""

    def session(self, login_id: str, session_id: str) -> Session | None: ...

    def touch_session(self, login_id: str, session_id: str, now: dt.datetime, expires_at: dt.datetime) -> None:
        """Slide an existing session's expiry (never brings an ended one back)."""

    def end_session(self, login_id: str, session_id: str) -> None: ...

    def end_sessions(self, login_id: str) -> int:
        """End every session of the account; how many there were."""
