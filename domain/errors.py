"""The errors a use case may raise, each carrying its public GraphQL error code.

    DomainError                      code
     ├── Unauthenticated              UNAUTHENTICATED
     ├── Forbidden                    FORBIDDEN
     ├── NotFound                     NOT_FOUND
     ├── Conflict                     CONFLICT
     ├── BadUserInput                 BAD_USER_INPUT   (+ fields: {name: reason})
     ├── AccountLocked                ACCOUNT_LOCKED   (+ retry_after_seconds)
     ├── RateLimited                  RATE_LIMITED     (+ retry_after_seconds)
     ├── QueryTooComplex              QUERY_TOO_COMPLEX
     └── ServiceUnavailable           SERVICE_UNAVAILABLE

graph/errors.py is the one place that turns these into GraphQL errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def extensions(self) -> dict[str, Any]:
        return {"code": self.code}


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"

    def __init__(self, message: str = "authentication required") -> None:
        super().__init__(message)


class Forbidden(DomainError):
    code = "FORBIDDEN"

    def __init__(self, message: str = "not allowed") -> None:
        super().__init__(message)


class NotFound(DomainError):
    code = "NOT_FOUND"

    @classmethod
    def of(cls, kind: str, ident: object) -> NotFound:
        return cls(f"{kind} {ident} not found")


class Conflict(DomainError):
    code = "CONFLICT"


class BadUserInput(DomainError):
    code = "BAD_USER_INPUT"

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})

    @classmethod
    def field(cls, name: str, reason: str) -> BadUserInput:
        return cls(f"{name}: {reason}", {name: reason})

    def extensions(self) -> dict[str, Any]:
        return {**super().extensions(), "fields": self.fields}


class _RetryLater(DomainError):
    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = max(1, retry_after_seconds)

    def extensions(self) -> dict[str, Any]:
        return {**super().extensions(), "retryAfterSeconds": self.retry_after_seconds}


class AccountLocked(_RetryLater):
    code = "ACCOUNT_LOCKED"


class RateLimited(_RetryLater):
    code = "RATE_LIMITED"


class QueryTooComplex(DomainError):
    code = "QUERY_TOO_COMPLEX"


class ServiceUnavailable(DomainError):
    code = "SERVICE_UNAVAILABLE"

    def __init__(self, message: str = "the database is unavailable") -> None:
        super().__init__(message)
