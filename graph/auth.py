"""Bearer tokens to actors: decoded once per GraphQL request (graph/view.py
`get_context`), checked against the database once, lazily, by the first field
that needs a user. A bad token never fails the request: it is recorded and
surfaces as UNAUTHENTICATED on the first field that needs a user, so `login`
still works."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import Unauthenticated
from domain.ports import Clock
from domain.security import AccessClaims, TokenSigner


@dataclass(frozen=True, slots=True)
class BearerToken:
    """The outcome of reading the Authorization header: claims, or why not."""

    claims: AccessClaims | None = None
    error: Unauthenticated | None = None


ANONYMOUS = BearerToken()


def read_bearer(header: str | None, signer: TokenSigner, clock: Clock) -> BearerToken:
    if not header:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return BearerToken(error=Unauthenticated("expected a Bearer token"))
    try:
        return BearerToken(claims=signer.verify(token.strip(), clock()))
    except Unauthenticated as exc:
        return BearerToken(error=exc)
