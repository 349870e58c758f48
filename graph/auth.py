"""Bearer tokens to actors: decoded once per request, checked against the database
once, lazily, by the first field that needs a user."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.requests import HTTPConnection

from domain.errors import Unauthenticated
from domain.ports import Clock
from domain.security import AccessClaims, TokenSigner


@dataclass(frozen=True, slots=True)
class BearerToken(BaseUser):
    """The outcome of reading the Authorization header: claims, or why not."""

    claims: AccessClaims | None = None
    error: Unauthenticated | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.claims is not None

    @property
    def display_name(self) -> str:
        return "" if self.claims is None else str(self.claims.user_id)


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


class BearerAuthBackend(AuthenticationBackend):
    """Never fails the request: a bad token is recorded and surfaces as
    UNAUTHENTICATED on the first field that needs a user, so `login` still works."""

    def __init__(self, signer: TokenSigner, clock: Clock) -> None:
        self._signer = signer
        self._clock = clock

    async def authenticate(
        self, conn: HTTPConnection
    ) -> tuple[AuthCredentials, BaseUser] | None:
        bearer = read_bearer(
            conn.headers.get("authorization"), self._signer, self._clock
        )
        scopes = ["authenticated"] if bearer.is_authenticated else []
        return AuthCredentials(scopes), bearer
