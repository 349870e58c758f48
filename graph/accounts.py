"""GraphQL for accounts: the User type and the user queries."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain import models
from domain.errors import DomainError, NotFound
from graph.context import Context
from graph.inputs import ProjectFilter, TaskFilter, TaskOrder
from graph.relay import (
    Connection,
    Node,
    decode_id,
    given,
    page_request,
    to_global_id,
)
from persistence import accounts as queries

if TYPE_CHECKING:
    from graph.projects import ProjectType
    from graph.tasks import TaskType

strawberry.enum(models.Role, name="Role")


# The fields of a user that one read without timestamps (Loaders.undated_user)
# cannot answer.
DATED_FIELDS = ("createdAt", "updatedAt")


@strawberry.type(name="User")
class UserType(Node):
    email: str
    name: str
    role: models.Role
    is_active: bool
    is_verified: bool
    created_at: datetime
    updated_at: datetime
    db_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, user: models.UserView) -> UserType:
        return cls(
            id=to_global_id("User", user.id),
            db_id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            is_active=user.is_active,
            is_verified=user.is_verified,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )

    # Imported in the resolvers: graph.projects and graph.tasks import this module.
    @strawberry.field(description="Projects the user belongs to that you may see.")
    async def projects(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = strawberry.UNSET,
        after: str | None = strawberry.UNSET,
        last: int | None = strawberry.UNSET,
        before: str | None = strawberry.UNSET,
        filter: ProjectFilter | None = strawberry.UNSET,
    ) -> Connection[Annotated[ProjectType, strawberry.lazy("graph.projects")]]:
        from graph.projects import member_projects

        request = page_request(first, after, last, before)
        return await member_projects(info, self.db_id, request, filter)

    @strawberry.field(description="Tasks assigned to the user that you may see.")
    async def assigned_tasks(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = strawberry.UNSET,
        after: str | None = strawberry.UNSET,
        last: int | None = strawberry.UNSET,
        before: str | None = strawberry.UNSET,
        filter: TaskFilter | None = strawberry.UNSET,
        order_by: TaskOrder | None = strawberry.UNSET,
    ) -> Connection[Annotated[TaskType, strawberry.lazy("graph.tasks")]]:
        from graph.tasks import assigned_tasks

        request = page_request(first, after, last, before)
        return await assigned_tasks(info, self.db_id, request, filter, order_by)


@strawberry.input
class UserFilter:
    search: str | None = strawberry.UNSET
    role: models.Role | None = strawberry.UNSET
    is_active: bool | None = strawberry.UNSET

    def to_query(self) -> queries.UserFilter:
        return queries.UserFilter(
            given(self.search), given(self.role), given(self.is_active)
        )


async def load_user(context: Context, raw_id: str) -> UserType:
    try:
        user_id = decode_id(raw_id, "User")
    except DomainError:
        await context.require_actor()  # UNAUTHENTICATED comes before a bad id
        raise
    await context.require_actor(with_users=(user_id,))
    user = await context.loaders.user.load(user_id)
    if user is None:
        raise NotFound.of("User", raw_id)
    return UserType.from_model(user)


async def user_node(context: Context, ident: int) -> UserType | None:
    user = await context.loaders.user.load(ident)
    return None if user is None else UserType.from_model(user)


@strawberry.type
class AccountsQuery:
    @strawberry.field(description="The caller; UNAUTHENTICATED without a valid token.")
    async def me(self, info: strawberry.Info[Context, None]) -> UserType:
        context = info.context
        actor = await context.require_actor()
        user = context.caller or await context.loaders.user.load(actor.user_id)
        assert user is not None  # the actor was just read from this table
        return UserType.from_model(user)

    @strawberry.field
    async def user(
        self, info: strawberry.Info[Context, None], id: strawberry.ID
    ) -> UserType | None:
        return await load_user(info.context, id)

    @strawberry.field
    async def users(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = strawberry.UNSET,
        after: str | None = strawberry.UNSET,
        last: int | None = strawberry.UNSET,
        before: str | None = strawberry.UNSET,
        filter: UserFilter | None = strawberry.UNSET,
    ) -> Connection[UserType]:
        context = info.context
        await context.require_actor()
        user_filter = (given(filter) or UserFilter()).to_query()
        page = await queries.users_page(
            context.uow, user_filter, page_request(first, after, last, before)
        )
        for user in page.rows:
            context.loaders.user.prime(user.id, user)
        return Connection[UserType].build(
            page,
            UserType.from_model,
            lambda: queries.count_users(context.uow, user_filter),
        )
