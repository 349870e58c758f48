"""SQL for projects: the repository, the visibility filter and the read side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    exists,
    func,
    select,
    true,
)
from sqlalchemy.orm import QueryableAttribute, aliased
from sqlalchemy.orm.exc import StaleDataError

from domain.access import Actor
from domain.errors import Conflict
from domain.models import (
    Project,
    ProjectMember,
    ProjectRecord,
    ProjectRole,
    User,
    UserRecord,
)
from persistence import keyset
from persistence.accounts import UNDATED_USER_COLUMNS

if TYPE_CHECKING:
    from persistence.uow import SqlUnitOfWork

PROJECT_ORDER = keyset.Ordering((keyset.SortKey("id", Project.id, "int"),))
# The projects page reads columns, not entities, as the task lists do.
PROJECT_COLUMNS = [Project.__table__.c[name] for name in ProjectRecord._fields]
MEMBER_ROLE_ORDER = {ProjectRole.OWNER: 0, ProjectRole.MEMBER: 1}
# Aliased, since the query this filters may join project_members itself; built once,
# since an alias costs more to build (its adapters, weak maps and events) than the
# rest of a page's statement, a quarter of Q3's CPU when it was built per request.
_VIEWER = aliased(ProjectMember, name="viewer")


def visible_projects(
    actor: Actor, project_id: QueryableAttribute[int] = Project.id
) -> ColumnElement[bool]:
    """The SQL mirror of domain.access.can_view_project: admin, or a membership
    (the owner's included) of `actor` in the project."""
    if actor.is_admin:
        return true()
    return exists().where(
        _VIEWER.project_id == project_id, _VIEWER.user_id == actor.user_id
    )


@dataclass(frozen=True, slots=True)
class ProjectFilter:
    owned_by: int | None = None
    include_archived: bool = False
    search: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.owned_by is not None:
            conditions.append(Project.owner_id == self.owned_by)
        if not self.include_archived:
            conditions.append(Project.is_archived.is_(False))
        if self.search and self.search.strip():
            needle = self.search.strip().lower()
            conditions.append(
                func.lower(Project.name).contains(needle, autoescape=True)
            )
        return conditions


class ProjectRepository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def with_role(
        self, project_id: int, user_id: int
    ) -> tuple[Project, ProjectRole | None] | None:
        query = (
            select(Project, ProjectMember.role)
            .outerjoin(
                ProjectMember,
                and_(
                    ProjectMember.project_id == Project.id,
                    ProjectMember.user_id == user_id,
                ),
            )
            .where(Project.id == project_id)
        )
        row = (await self._uow.execute(query)).one_or_none()
        return None if row is None else (row[0], row[1])

    async def member_roles(
        self, project_ids: Sequence[int], user_id: int
    ) -> dict[int, ProjectRole]:
        query = select(ProjectMember.project_id, ProjectMember.role).where(
            ProjectMember.project_id.in_(project_ids),
            ProjectMember.user_id == user_id,
        )
        return dict((await self._uow.execute(query)).all())

    async def save(self, project: Project) -> None:
        await flush_checked(self._uow, "project")

    async def delete(self, project_id: int) -> None:
        await self._uow.execute(delete(Project).where(Project.id == project_id))

    async def remove_member(self, project_id: int, user_id: int) -> None:
        await self._uow.execute(
            delete(ProjectMember).where(
                ProjectMember.project_id == project_id,
                ProjectMember.user_id == user_id,
            )
        )


async def flush_checked(uow: SqlUnitOfWork, what: str) -> None:
    """Flush; the mappers put the updated_at that was read into each UPDATE's WHERE
    (version_id_col), so a row changed meanwhile matches nothing: CONFLICT."""
    try:
        await uow.flush()
    except StaleDataError as exc:
        raise Conflict(f"{what} was changed by another request") from exc


async def projects_by_ids(
    uow: SqlUnitOfWork, ids: Sequence[int]
) -> list[Project | None]:
    rows = (
        await uow.execute(select(Project).where(Project.id.in_(set(ids))))
    ).scalars()
    found = {project.id: project for project in rows}
    return [found.get(i) for i in ids]


async def visible_projects_by_ids(
    uow: SqlUnitOfWork, ids: Sequence[int], actor: Actor
) -> list[Project | None]:
    query = select(Project).where(Project.id.in_(set(ids)), visible_projects(actor))
    found = {p.id: p for p in (await uow.execute(query)).scalars()}
    return [found.get(i) for i in ids]


async def members_of(
    uow: SqlUnitOfWork, project_ids: Sequence[int]
) -> list[list[tuple[ProjectMember, User]]]:
    """Each project's members with their users, the owner first, in one query."""
    query = (
        select(ProjectMember, User)
        .join(User, User.id == ProjectMember.user_id)
        .where(ProjectMember.project_id.in_(set(project_ids)))
        .order_by(
            ProjectMember.project_id, ProjectMember.added_at, ProjectMember.user_id
        )
    )
    grouped: dict[int, list[tuple[ProjectMember, User]]] = {i: [] for i in project_ids}
    for member, user in (await uow.execute(query)).all():
        grouped[member.project_id].append((member, user))
    for members in grouped.values():
        members.sort(key=lambda pair: MEMBER_ROLE_ORDER[pair[0].role])
    return [grouped[i] for i in project_ids]


def _visible(actor: Actor, project_filter: ProjectFilter) -> list[ColumnElement[bool]]:
    return [visible_projects(actor), *project_filter.conditions()]


async def projects_page(
    uow: SqlUnitOfWork,
    actor: Actor,
    project_filter: ProjectFilter,
    request: keyset.PageRequest,
    *,
    with_owners: bool = False,
) -> tuple[keyset.Page[ProjectRecord], list[UserRecord]]:
    """A page of projects, and `with_owners` their owners without timestamps, read
    in the same statement: the round trip of a statement of their own costs more
    than joining the owners' rows."""
    signature = PROJECT_ORDER.signature(keyset.fingerprint("projects", project_filter))
    query, size = keyset.reused(
        _page_statement, request, actor, project_filter, with_owners
    )
    rows = (await uow.rows(query)).all()
    split = len(ProjectRecord._fields)
    projects = [ProjectRecord._make(row[:split]) for row in rows]
    owners = [UserRecord._make(row[split:]) for row in rows] if with_owners else []
    page = keyset.page_from_rows(projects, size, PROJECT_ORDER, signature, request)
    return page, owners


@lru_cache(maxsize=256)
def _page_statement(
    actor: Actor,
    project_filter: ProjectFilter,
    with_owners: bool,
    request: keyset.PageRequest,
) -> tuple[Select[Any], int]:
    signature = PROJECT_ORDER.signature(keyset.fingerprint("projects", project_filter))
    base = select(*PROJECT_COLUMNS)
    if with_owners:
        base = base.add_columns(*UNDATED_USER_COLUMNS).join(
            User, User.id == Project.owner_id
        )
    base = base.where(*_visible(actor, project_filter))
    return keyset.apply(base, PROJECT_ORDER, signature, request)


async def count_projects(
    uow: SqlUnitOfWork, actor: Actor, project_filter: ProjectFilter
) -> int:
    query = (
        select(func.count())
        .select_from(Project)
        .where(*_visible(actor, project_filter))
    )
    return int((await uow.rows(query)).scalar_one())


async def member_project_pages(
    uow: SqlUnitOfWork,
    user_ids: Sequence[int],
    actor: Actor,
    project_filter: ProjectFilter,
    request: keyset.PageRequest,
) -> list[keyset.Page[Project]]:
    """User.projects for many users at once: their memberships the actor may see."""
    signature = PROJECT_ORDER.signature(
        keyset.fingerprint("user.projects", project_filter)
    )
    base = _member_projects(actor, project_filter, select(Project))
    query, size = keyset.apply_partitioned(
        base,
        Project,
        ProjectMember.user_id,
        "user_ids",
        PROJECT_ORDER,
        signature,
        request,
        dialect=uow.dialect_name(),
    )
    rows = (await uow.execute(query, params={"user_ids": list(user_ids)})).all()
    return keyset.pages_by_parent(
        rows, user_ids, size, PROJECT_ORDER, signature, request
    )


async def count_member_projects(
    uow: SqlUnitOfWork,
    user_ids: Sequence[int],
    actor: Actor,
    project_filter: ProjectFilter,
) -> list[int]:
    counting = select(ProjectMember.user_id, func.count()).group_by(
        ProjectMember.user_id
    )
    query = _member_projects(actor, project_filter, counting).where(
        ProjectMember.user_id.in_(set(user_ids))
    )
    counts = dict((await uow.rows(query)).all())
    return [int(counts.get(uid, 0)) for uid in user_ids]


def _member_projects(actor: Actor, project_filter: ProjectFilter, query: Any) -> Any:
    return (
        query.select_from(Project)
        .join(ProjectMember, ProjectMember.project_id == Project.id)
        .where(*_visible(actor, project_filter))
    )
