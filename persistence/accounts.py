"""SQL for accounts: the repositories of users, sessions, tokens and login
throttles, and the users read side."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    any_,
    bindparam,
    delete,
    func,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from domain.errors import Conflict
from domain.models import (
    AuthSession,
    LoginThrottle,
    OneTimeToken,
    RefreshToken,
    Role,
    TokenPurpose,
    User,
    UserRecord,
)
from persistence import keyset
from persistence.driver_reads import on_the_driver

if TYPE_CHECKING:
    from persistence.uow import SqlUnitOfWork

USER_ORDER = keyset.Ordering((keyset.SortKey("id", User.id, "int"),))

# The two statements of nearly every request, built once: a statement object that
# is reused keeps its cache key, so SQLAlchemy neither rebuilds nor re-hashes it,
# and PostgreSQL reads send it straight to asyncpg (driver_reads.py).
USER_COLUMNS = [User.__table__.c[name] for name in UserRecord._fields]
DATES = ("created_at", "updated_at")
# The join of a user to the request's session, if it is theirs and not revoked.
LIVE_SESSION = and_(
    AuthSession.user_id == User.id,
    AuthSession.id == bindparam("session_id"),
    AuthSession.revoked_at.is_(None),
)
LIVE_SESSION_USER = on_the_driver(
    select(*USER_COLUMNS)
    .join(AuthSession, LIVE_SESSION)
    .where(User.id == bindparam("user_id"))
)


# By dialect. PostgreSQL takes the ids as one array parameter: an expanding IN is
# rendered anew at every execution (the costliest step of a one-user read) and makes
# one prepared statement per number of ids.
def _by_ids(query: Select[Any]) -> dict[str, Select[Any]]:
    return {
        "postgresql": on_the_driver(
            query.where(User.id == any_(bindparam("ids", type_=ARRAY(Integer))))
        ),
        "sqlite": query.where(User.id.in_(bindparam("ids", expanding=True))),
    }


USERS_BY_IDS = _by_ids(select(*USER_COLUMNS))
# The session check with the users a query names by id, in one round trip: a
# statement costs a request more than anything else it does (bench/README.md).
LIVE_SESSION_AND_USERS = _by_ids(
    select(AuthSession.id.is_not(None).label("live"), *USER_COLUMNS).outerjoin(
        AuthSession, LIVE_SESSION
    )
)
# The owners and assignees of a page whose response shows neither timestamp: the
# driver would build a datetime for each (5 % of Q2's instructions).
UNDATED_USER_COLUMNS = [
    null().label(column.name) if column.name in DATES else column
    for column in USER_COLUMNS
]
UNDATED_USERS_BY_IDS = _by_ids(select(*UNDATED_USER_COLUMNS))


@dataclass(frozen=True, slots=True)
class UserFilter:
    search: str | None = None
    role: Role | None = None
    is_active: bool | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.search:
            needle = self.search.strip().lower()
            conditions.append(
                or_(
                    func.lower(User.name).contains(needle, autoescape=True),
                    func.lower(User.email).contains(needle, autoescape=True),
                )
            )
        if self.role is not None:
            conditions.append(User.role == self.role)
        if self.is_active is not None:
            conditions.append(User.is_active.is_(self.is_active))
        return conditions


class UserRepository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def get(self, user_id: int) -> User | None:
        return await self._uow.get(User, user_id)

    async def by_email(self, email: str) -> User | None:
        query = select(User).where(func.lower(User.email) == email.lower())
        return (await self._uow.execute(query)).scalar_one_or_none()

    async def with_live_session(
        self, user_id: int, session_id: str, also: Collection[int] = ()
    ) -> tuple[UserRecord | None, dict[int, UserRecord]]:
        """The user, if the session has not been revoked; and those of the users
        `also` names that exist, by id."""
        if not also:
            found = await self._uow.rows(
                LIVE_SESSION_USER, {"user_id": user_id, "session_id": session_id}
            )
            row = found.one_or_none()
            return (None if row is None else UserRecord._make(row)), {}
        statement = LIVE_SESSION_AND_USERS[self._uow.dialect_name()]
        ids = sorted({user_id, *also})
        caller = None
        named = {}
        for live, *columns in await self._uow.rows(
            statement, {"session_id": session_id, "ids": ids}
        ):
            user = UserRecord._make(columns)
            if user.id == user_id and live:
                caller = user
            if user.id in also:
                named[user.id] = user
        return caller, named

    async def add(self, user: User) -> None:
        try:
            await self._uow.insert(user)
        except IntegrityError as exc:
            # Another transaction registered the same email after our check.
            raise Conflict("email already registered") from exc


class SessionRepository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def get(self, session_id: str) -> AuthSession | None:
        return await self._uow.get(AuthSession, session_id)

    async def revoke_all(self, user_id: int, now: datetime) -> None:
        await self._uow.execute(
            update(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )


class RefreshTokenRepository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def by_hash(self, token_hash: str) -> RefreshToken | None:
        query = (
            select(RefreshToken)
            .where(RefreshToken.token_hash == token_hash)
            .with_for_update()
        )
        return (await self._uow.execute(query)).scalar_one_or_none()


class OneTimeTokenRepository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def by_hash(
        self, token_hash: str, purpose: TokenPurpose
    ) -> OneTimeToken | None:
        query = (
            select(OneTimeToken)
            .where(
                OneTimeToken.token_hash == token_hash, OneTimeToken.purpose == purpose
            )
            .with_for_update()
        )
        return (await self._uow.execute(query)).scalar_one_or_none()

    async def void_unused(self, user_id: int, purpose: TokenPurpose) -> None:
        await self._uow.execute(
            delete(OneTimeToken).where(
                OneTimeToken.user_id == user_id,
                OneTimeToken.purpose == purpose,
                OneTimeToken.used_at.is_(None),
            )
        )


class LoginThrottleRepository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def get(self, email: str) -> LoginThrottle | None:
        return await self._uow.get(LoginThrottle, email)

    async def locked_row(self, email: str, now: datetime) -> LoginThrottle:
        await self._uow.insert_or_ignore(
            LoginThrottle, email=email, failed_attempts=0, updated_at=now
        )
        query = (
            select(LoginThrottle)
            .where(LoginThrottle.email == email)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        throttle: LoginThrottle = (await self._uow.execute(query)).scalar_one()
        return throttle

    async def clear(self, email: str) -> None:
        await self._uow.execute(
            delete(LoginThrottle).where(LoginThrottle.email == email)
        )


async def users_by_ids(
    uow: SqlUnitOfWork, ids: Sequence[int], *, dated: bool = True
) -> list[UserRecord | None]:
    """Records, not entities: the read side shows users and never changes them.
    Not `dated`, their timestamps are None."""
    by_dialect = USERS_BY_IDS if dated else UNDATED_USERS_BY_IDS
    statement = by_dialect[uow.dialect_name()]
    found_rows = await uow.rows(statement, {"ids": sorted(set(ids))})
    found = {user.id: user for user in map(UserRecord._make, found_rows)}
    return [found.get(i) for i in ids]


async def users_page(
    uow: SqlUnitOfWork, user_filter: UserFilter, request: keyset.PageRequest
) -> keyset.Page[User]:
    signature = USER_ORDER.signature(keyset.fingerprint("users", user_filter))
    base = select(User).where(*user_filter.conditions())
    query, size = keyset.apply(base, USER_ORDER, signature, request)
    rows = (await uow.execute(query)).scalars().all()
    return keyset.page_from_rows(rows, size, USER_ORDER, signature, request)


async def count_users(uow: SqlUnitOfWork, user_filter: UserFilter) -> int:
    query = select(func.count()).select_from(User).where(*user_filter.conditions())
    return int((await uow.rows(query)).scalar_one())
