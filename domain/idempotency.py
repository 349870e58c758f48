"""Idempotency keys: a retry with the same key and input returns the first result.

The same key with another input (or for another operation) is CONFLICT. A key is
remembered per user for KEY_TTL, in the transaction of the change it guards, so a
rolled-back change leaves no key behind.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.access import Actor
from domain.errors import BadUserInput, Conflict
from domain.models import IdempotencyKey
from domain.ports import UnitOfWork

KEY_TTL = timedelta(hours=24)
KEY_MAX = 200


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    key: str
    operation: str
    request_hash: str


def idempotent_request(
    key: str | None, operation: str, payload: Mapping[str, Any]
) -> IdempotentRequest | None:
    """None when no key was given; the payload is the input without the key."""
    if key is None:
        return None
    if not key.strip() or len(key) > KEY_MAX:
        raise BadUserInput.field("idempotencyKey", f"must be 1 to {KEY_MAX} characters")
    canonical = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    digest = hashlib.sha256(f"{operation}|{canonical}".encode()).hexdigest()
    return IdempotentRequest(key, operation, digest)


async def earlier_result(
    request: IdempotentRequest | None, *, uow: UnitOfWork, actor: Actor, now: datetime
) -> dict[str, Any] | None:
    """The stored result of the first request with this key, if any."""
    if request is None:
        return None
    found = await uow.idempotency.find(actor.user_id, request.key, now - KEY_TTL)
    if found is None:
        return None
    if (found.operation, found.request_hash) != (
        request.operation,
        request.request_hash,
    ):
        raise Conflict("idempotency key was already used with a different input")
    result: dict[str, Any] = json.loads(found.result)
    return result


async def remember_result(
    request: IdempotentRequest | None,
    result: Mapping[str, Any],
    *,
    uow: UnitOfWork,
    actor: Actor,
    now: datetime,
) -> None:
    if request is None:
        return
    await uow.idempotency.remember(
        IdempotencyKey(
            user_id=actor.user_id,
            key=request.key,
            operation=request.operation,
            request_hash=request.request_hash,
            result=json.dumps(dict(result)),
            created_at=now,
        )
    )
