"""An audit entry and the actions it names.

Invariants:
- An entry is written once and never changed: the repository has no update or delete, and its put is
  conditional on the entry not existing (a second put of the same id is refused).
- ``merchant_id`` says whose log shows the entry: the merchant's owner reads entries with its id; the
  operator reads every entry. Operator actions and failed logins of unknown login IDs have none, so
  no merchant can read them (an unknown ID typed at the login form belongs to nobody).
- ``at`` is aware UTC to the millisecond; it is shown in JST.
"""

from __future__ import annotations

import datetime as dt

import msgspec

SYSTEM = "system"

ACTION_LABELS = {
    "login": "ログイン",
    "login_failed": "ログイン失敗",
    "logout": "ログアウト",
    "password_change": "パスワード変更",
    "password_reset": "パスワード再発行",
    "staff_add": "スタッフ追加",
    "staff_disable": "スタッフ無効化",
    "staff_enable": "スタッフ再有効化",
    "payment_cancel": "取消",
    "export": "CSVエクスポート",
    "audit_export": "操作履歴CSV",
    "store_add": "店舗追加",
    "store_change": "店舗変更",
    "store_suspend": "店舗の利用停止",
    "store_reactivate": "店舗の利用再開",
    "merchant_register": "事業者登録",
    "merchant_suspend": "利用停止",
    "merchant_reactivate": "利用再開",
    "access_revoke": "ログイン停止",
    "access_restore": "ログイン再開",
    "grant": "ポイント付与",
    "claim_batch": "受取コード発行",
    "claim_codes_export": "受取コードCSV",
    "claim_letters": "受取コード案内状",
    "period_close": "精算期間の締め",
    "zengin": "全銀ファイル作成",
    "payout_paid": "振込済にする",
    "payout_failed": "振込不能にする",
    "ledger_check": "保存則の検査",
}


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    audit_id: str
    at: dt.datetime
    actor: str  # a login ID, or "system"
    action: str
    target: str = ""
    ip: str = ""
    actor_role: str = ""  # operator | owner | manager | clerk | "" (unknown, e.g. a failed login)
    merchant_id: str | None = None
    detail: str = ""

    @property
    def label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)


def month_of(moment: dt.datetime) -> str:
    """The UTC month (``YYYY-MM``) whose partition holds an entry made at ``moment``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m")


def previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1:04d}-12" if mon == 1 else f"{year:04d}-{mon - 1:02d}"


def months_back(month: str, count: int) -> str:
    for _ in range(count):
        month = previous_month(month)
    return month
