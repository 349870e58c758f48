"""SQL for accounts: the user repository and the users read side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, func, or_, select

from domain.models import AuthSession, Role, User
from persistence import keyset

if TYPE_CHECKING:
    from persistence.uow import SqlUnitOfWork

USER_ORDER = keyset.Ordering((keyset.SortKey("id", User.id, "int"),))


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

    async def with_live_session(self, user_id: int, session_id: str) -> User | None:
        """The user, if the session has not been revoked."""
        query = (
            select(User)
            .join(AuthSession, AuthSession.user_id == User.id)
            .where(
                User.id == user_id,
                AuthSession.id == session_id,
                AuthSession.revoked_at.is_(None),
            )
        )
        return (await self._uow.execute(query)).scalar_one_or_none()


async def users_by_ids(uow: SqlUnitOfWork, ids: Sequence[int]) -> list[User | None]:
    rows = (await uow.execute(select(User).where(User.id.in_(set(ids))))).scalars()
    found = {user.id: user for user in rows}
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
    return int((await uow.execute(query)).scalar_one())
