"""Domain errors. Each carries a stable machine code (SPEC §9) and context; no HTTP here.

The edge (``chalicelib.http.errors``) is the one place that maps a code to a status.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "invalid_request"
    default_message = "リクエストが正しくありません。"

    def __init__(self, message: str | None = None, *, param: str | None = None, **context: Any) -> None:
        self.message = message or self.default_message
        self.param = param
        self.context = context
        super().__init__(self.message)


class InvalidRequest(DomainError):
    code = "invalid_request"


class InvalidQR(DomainError):
    code = "invalid_qr"
    default_message = "QRコードを読み取れませんでした。お店のQRコードをもう一度読み取ってください。"


class Unauthenticated(DomainError):
    code = "unauthenticated"
    default_message = "ログインが必要です。"


class Forbidden(DomainError):
    code = "forbidden"
    default_message = "この操作は許可されていません。"


class PasswordChangeRequired(DomainError):
    code = "password_change_required"
    default_message = "初期パスワードのままです。パスワードを変更してからご利用ください。"


class NotFound(DomainError):
    code = "not_found"
    default_message = "見つかりませんでした。"


class InsufficientPoints(DomainError):
    code = "insufficient_points"
    default_message = "ポイント残高が不足しています。"


class MerchantUnavailable(DomainError):
    code = "merchant_unavailable"
    default_message = "このお店は現在ご利用いただけません。"


class AlreadyCancelled(DomainError):
    code = "already_cancelled"
    default_message = "この決済はすでに取り消されています。"


class CancelWindowExpired(DomainError):
    code = "cancel_window_expired"
    default_message = "取消できる期間を過ぎています。商工会にお問い合わせください。"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    default_message = "同じIdempotency-Keyが別の内容のリクエストに使われています。"


class IdempotencyInProgress(DomainError):
    code = "idempotency_in_progress"
    default_message = "同じリクエストを処理中です。少し待ってからもう一度お試しください。"


class Conflict(DomainError):
    code = "conflict"
    default_message = "他の操作と競合しました。もう一度お試しください。"


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    default_message = "ログインに5回失敗したため、15分間ログインできません。"


class ClaimCodeNotFound(DomainError):
    code = "claim_code_not_found"
    default_message = "受取コードが見つかりません。入力に誤りがないか、有効期限が過ぎていないかご確認ください。"


class ClaimCodeUsed(DomainError):
    code = "claim_code_used"
    default_message = "この受取コードはすでに使われています。"


class ServiceUnavailable(DomainError):
    code = "service_unavailable"
    default_message = "ただいま認証サービスに接続できません。しばらくしてからもう一度お試しください。"


class WriteRejected(Exception):
    """A repository's conditional write did not happen (not a domain error: services decide).

    ``reasons`` names the conditions that failed (e.g. ``{"wallet"}`` when the wallet changed since
    it was read); an empty set means nothing failed but a concurrent write got in the way.
    """

    def __init__(self, reasons: frozenset[str] | set[str] = frozenset()) -> None:
        self.reasons = frozenset(reasons)
        super().__init__("write rejected: " + (", ".join(sorted(self.reasons)) or "contention"))
