from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import jwt
import pytest

from domain.errors import Unauthenticated
from domain.models import utcnow
from domain.security import (
    ALGORITHM,
    HASH_THREAD_PREFIX,
    HASH_WORKERS,
    TokenSigner,
    hash_opaque_token,
    hash_password_async,
    needs_rehash,
    new_opaque_token,
    verify_password_async,
)

SIGNER = TokenSigner("k" * 48, timedelta(minutes=15))


def test_verifies_against_the_given_clock() -> None:
    now = utcnow() + timedelta(days=3)
    token = SIGNER.issue(7, "session-1", now)

    claims = SIGNER.verify(token, now + timedelta(minutes=14))

    assert (claims.user_id, claims.session_id) == (7, "session-1")
    with pytest.raises(Unauthenticated, match="expired"):
        SIGNER.verify(token, now + timedelta(minutes=16))


def test_a_token_verified_under_one_key_is_still_refused_under_another() -> None:
    now = utcnow()
    token = SIGNER.issue(7, "session-1", now)
    SIGNER.verify(token, now)
    rotated = TokenSigner("r" * 48, timedelta(minutes=15))

    with pytest.raises(Unauthenticated):
        rotated.verify(token, now)


def test_a_token_issued_in_the_future_is_refused() -> None:
    now = utcnow()
    token = SIGNER.issue(7, "s", now + timedelta(minutes=5))

    with pytest.raises(Unauthenticated, match="invalid"):
        SIGNER.verify(token, now)


@pytest.mark.parametrize("bad", ["soon", True, None])
def test_a_non_numeric_expiry_is_refused(bad: object) -> None:
    now = utcnow()
    claims = jwt.decode(
        SIGNER.issue(7, "s", now),
        options={"verify_signature": False},
    )
    forged = jwt.encode({**claims, "exp": bad}, SIGNER.secret_key, ALGORITHM)

    with pytest.raises(Unauthenticated, match="invalid"):
        SIGNER.verify(forged, now)


def test_opaque_tokens_carry_256_bits_and_are_stored_hashed() -> None:
    token, stored = new_opaque_token()

    assert len(token) >= 43  # 32 random bytes in URL-safe base64
    assert stored == hash_opaque_token(token) != token
    assert new_opaque_token()[0] != token


def test_a_malformed_hash_needs_rehashing() -> None:
    assert needs_rehash("not-a-hash")


async def test_hashing_runs_on_a_bounded_pool_off_the_event_loop() -> None:
    stored = await hash_password_async("a long passphrase")

    results = await asyncio.gather(
        *(verify_password_async(stored, "a long passphrase") for _ in range(6))
    )

    assert results == [True] * 6
    pool = [t for t in threading.enumerate() if t.name.startswith(HASH_THREAD_PREFIX)]
    assert 1 <= len(pool) <= HASH_WORKERS
    assert threading.current_thread() not in pool
