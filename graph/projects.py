"""GraphQL for projects: the Project type, the project queries and mutations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import strawberry

from domain import models
from domain import projects as use_cases
from domain.access import Actor, can_manage_project
from domain.errors import NotFound
from graph.accounts import DATED_FIELDS, UserType
from graph.context import Context
from graph.direct_resolvers import batched
from graph.inputs import (
    ProjectFilter,
    TaskFilter,
    TaskOrder,
    change,
    project_filter,
)
from graph.loaders import Loaders
from graph.lookahead import load_now, node_child_selects, node_selects
from graph.relay import Connection, Node, decode_id, given, page_request, to_global_id
from graph.transactions import mutation
from persistence import projects as queries
from persistence.keyset import Page, PageRequest

if TYPE_CHECKING:
    from graph.tasks import TaskType

strawberry.enum(models.ProjectRole, name="ProjectRole")


@strawberry.type(name="ProjectMember")
class ProjectMemberType:
    user: UserType
    role: models.ProjectRole
    added_at: datetime


async def _tasks_of(
    projects: Sequence[ProjectType],
    info: strawberry.Info[Context, None],
    first: int | None = strawberry.UNSET,
    after: str | None = strawberry.UNSET,
    last: int | None = strawberry.UNSET,
    before: str | None = strawberry.UNSET,
    filter: TaskFilter | None = strawberry.UNSET,
    order_by: TaskOrder | None = strawberry.UNSET,
) -> list[Connection[TaskType]]:
    """Project.tasks of a page of projects at once."""
    from graph.tasks import project_tasks  # graph.tasks imports this module

    request = page_request(first, after, last, before)
    return await project_tasks(
        info, [p.db_id for p in projects], request, filter, order_by
    )


@strawberry.type(name="Project")
class ProjectType(Node):
    name: str
    description: str | None
    is_archived: bool
    db_id: strawberry.Private[int]
    owner_id: strawberry.Private[int]
    # The request's: `owner` then needs no Info, as Task.assignee.
    loaders: strawberry.Private[Loaders]
    # Whether `owner` is read with its timestamps (Loaders.users).
    dated_owner: strawberry.Private[bool]

    @classmethod
    def from_model(
        cls, project: models.ProjectView, loaders: Loaders, *, dated_owner: bool = True
    ) -> ProjectType:
        return cls(
            id=to_global_id("Project", project.id),
            db_id=project.id,
            owner_id=project.owner_id,
            name=project.name,
            description=project.description,
            is_archived=project.is_archived,
            created_at=project.created_at,
            updated_at=project.updated_at,
            loaders=loaders,
            dated_owner=dated_owner,
        )

    # Not async, like Task.assignee: a page of projects loads its owners up front.
    @strawberry.field(graphql_type=UserType)
    def owner(self) -> UserType | Awaitable[UserType]:
        loaders = self.loaders
        return load_now(
            loaders.users(self.dated_owner),
            self.owner_id,
            _owner_type,
            loaders.converted_users,
        )

    @strawberry.field
    async def members(
        self, info: strawberry.Info[Context, None]
    ) -> list[ProjectMemberType]:
        """The owner first, then the members in the order they were added."""
        members = await info.context.loaders.members.load(self.db_id)
        return [
            ProjectMemberType(
                user=UserType.from_model(user),
                role=member.role,
                added_at=member.added_at,
            )
            for member, user in members
        ]

    @strawberry.field
    async def viewer_can_update(self, info: strawberry.Info[Context, None]) -> bool:
        actor = await info.context.require_actor()
        return can_manage_project(
            actor, await viewer_role(info.context, self.db_id, actor)
        )

    @strawberry.field
    @batched(_tasks_of)
    async def tasks(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = strawberry.UNSET,
        after: str | None = strawberry.UNSET,
        last: int | None = strawberry.UNSET,
        before: str | None = strawberry.UNSET,
        filter: TaskFilter | None = strawberry.UNSET,
        order_by: TaskOrder | None = strawberry.UNSET,
    ) -> Connection[Annotated[TaskType, strawberry.lazy("graph.tasks")]]:
        (connection,) = await _tasks_of(
            [self], info, first, after, last, before, filter, order_by
        )
        return connection

    created_at: datetime
    updated_at: datetime


def _owner_type(user: models.UserView | None) -> UserType:
    assert user is not None  # users.id is ON DELETE RESTRICT for owners
    return UserType.from_model(user)


async def viewer_role(
    context: Context, project_id: int, actor: Actor
) -> models.ProjectRole | None:
    """The caller's role in a project, from the batched members of the project."""
    members = await context.loaders.members.load(project_id)
    return next((m.role for m, _ in members if m.user_id == actor.user_id), None)


async def load_project(context: Context, raw_id: str) -> ProjectType:
    """NOT_FOUND for a project that is missing or that the caller may not see."""
    actor = await context.require_actor()
    key = (decode_id(raw_id, "Project"), actor)
    project = await context.loaders.visible_project.load(key)
    if project is None:
        raise NotFound.of("Project", raw_id)
    return ProjectType.from_model(project, context.loaders)


async def project_node(context: Context, ident: int) -> ProjectType | None:
    actor = await context.require_actor()
    project = await context.loaders.visible_project.load((ident, actor))
    return None if project is None else ProjectType.from_model(project, context.loaders)


# Pages of entities (User.projects) and of records (the projects query).
ProjectRowT = TypeVar("ProjectRowT", models.Project, models.ProjectRecord)


async def _connection(
    info: strawberry.Info[Context, None],
    page: Page[ProjectRowT],
    count: Callable[[], Awaitable[int]],
) -> Connection[ProjectType]:
    loaders = info.context.loaders
    for project in page.rows:
        loaders.project.prime(project.id, project)
    dated = _dated_owners(info)
    if node_selects(info, "owner"):
        owners = list({p.owner_id for p in page.rows})
        await loaders.users(dated).load_many(owners)

    def convert(project: ProjectRowT) -> ProjectType:
        return ProjectType.from_model(project, loaders, dated_owner=dated)

    return Connection[ProjectType].build(page, convert, count)


def _dated_owners(info: strawberry.Info[Context, None]) -> bool:
    return node_child_selects(info, "owner", *DATED_FIELDS)


async def member_projects(
    info: strawberry.Info[Context, None],
    user_id: int,
    request: PageRequest,
    filter: ProjectFilter | None,
) -> Connection[ProjectType]:
    """User.projects: the user's memberships that the caller may see."""
    context = info.context
    actor = await context.require_actor()
    found = project_filter(filter, actor)
    page = await context.loaders.user_projects.load((user_id, (actor, found, request)))
    return await _connection(
        info,
        page,
        lambda: context.loaders.user_project_count.load((user_id, (actor, found))),
    )


@strawberry.type
class ProjectsQuery:
    @strawberry.field
    async def project(
        self, info: strawberry.Info[Context, None], id: strawberry.ID
    ) -> ProjectType | None:
        return await load_project(info.context, id)

    @strawberry.field
    async def projects(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = strawberry.UNSET,
        after: str | None = strawberry.UNSET,
        last: int | None = strawberry.UNSET,
        before: str | None = strawberry.UNSET,
        filter: ProjectFilter | None = strawberry.UNSET,
    ) -> Connection[ProjectType]:
        context = info.context
        actor = await context.require_actor()
        found = project_filter(filter, actor)
        request = page_request(first, after, last, before)
        # Owners shown without timestamps come with the page (the undated users
        # loader's rows); dated ones, as under User.projects, from _connection.
        with_owners = node_selects(info, "owner") and not _dated_owners(info)
        page, owners = await queries.projects_page(
            context.uow, actor, found, request, with_owners=with_owners
        )
        for owner in owners:
            context.loaders.undated_user.prime(owner.id, owner)
        return await _connection(
            info, page, lambda: queries.count_projects(context.uow, actor, found)
        )


@strawberry.input
class CreateProjectInput:
    name: str
    description: str | None = strawberry.UNSET
    idempotency_key: str | None = strawberry.UNSET


@strawberry.input
class UpdateProjectInput:
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    is_archived: bool | None = strawberry.UNSET
    expected_updated_at: datetime | None = strawberry.UNSET

    def to_changes(self) -> use_cases.ProjectChanges:
        return use_cases.ProjectChanges(
            name=change(self.name),
            description=change(self.description),
            is_archived=change(self.is_archived),
            expected_updated_at=given(self.expected_updated_at),
        )


@strawberry.input
class ProjectMemberInput:
    project_id: strawberry.ID
    user_id: strawberry.ID

    def ids(self) -> tuple[int, int]:
        return (
            decode_id(self.project_id, "Project", argument="projectId"),
            decode_id(self.user_id, "User", argument="userId"),
        )


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID


@strawberry.type
class ProjectsMutation:
    @mutation
    async def create_project(
        self, info: strawberry.Info[Context, None], input: CreateProjectInput
    ) -> ProjectType:
        project = await use_cases.create_project(
            input.name,
            given(input.description),
            given(input.idempotency_key),
            **await info.context.use_case_deps(),
        )
        return ProjectType.from_model(project, info.context.loaders)

    @mutation(description="Owner or admin.")
    async def update_project(
        self,
        info: strawberry.Info[Context, None],
        id: strawberry.ID,
        input: UpdateProjectInput,
    ) -> ProjectType:
        project = await use_cases.update_project(
            decode_id(id, "Project"),
            input.to_changes(),
            **await info.context.use_case_deps(),
        )
        return ProjectType.from_model(project, info.context.loaders)

    @mutation(description="Owner or admin; the project's tasks go with it.")
    async def delete_project(
        self, info: strawberry.Info[Context, None], id: strawberry.ID
    ) -> DeletePayload:
        deleted = await use_cases.delete_project(
            decode_id(id, "Project"), **await info.context.use_case_deps()
        )
        return DeletePayload(deleted_id=to_global_id("Project", deleted))

    @mutation(description="Owner or admin.")
    async def add_project_member(
        self, info: strawberry.Info[Context, None], input: ProjectMemberInput
    ) -> ProjectType:
        project = await use_cases.add_project_member(
            *input.ids(), **await info.context.use_case_deps()
        )
        return ProjectType.from_model(project, info.context.loaders)

    @mutation(description="Owner or admin; unassigns the member's open tasks.")
    async def remove_project_member(
        self, info: strawberry.Info[Context, None], input: ProjectMemberInput
    ) -> ProjectType:
        project = await use_cases.remove_project_member(
            *input.ids(), **await info.context.use_case_deps()
        )
        return ProjectType.from_model(project, info.context.loaders)
