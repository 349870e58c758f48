"""Each SQL visibility filter agrees with the domain predicate it mirrors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from domain.access import Actor, can_view_project
from domain.models import Project, ProjectMember, Role, Task, utcnow
from domain.tasks import TaskStatus
from persistence.projects import visible_projects
from persistence.tasks import status_condition
from tests.factories import TaskFactory, UserFactory, project_with_members


async def test_visible_projects_matches_can_view_project_for_every_actor(
    session: Any,
) -> None:
    admin = await UserFactory.create_async(role=Role.ADMIN)
    alice, bob, carol, dave = [await UserFactory.create_async() for _ in range(4)]
    await project_with_members(alice, bob)
    await project_with_members(bob)
    await project_with_members(carol, alice, bob, is_archived=True)
    await project_with_members(dave)
    members = (await session.execute(select(ProjectMember))).scalars().all()
    roles = {(m.project_id, m.user_id): m.role for m in members}
    project_ids = (await session.execute(select(Project.id))).scalars().all()
    task_ids = {
        p: (await TaskFactory.create_async(project_id=p)).id for p in project_ids
    }

    for user in (admin, alice, bob, carol, dave):
        actor = Actor(user.id, user.role)
        by_sql = set(
            (await session.execute(select(Project.id).where(visible_projects(actor))))
            .scalars()
            .all()
        )
        tasks_by_sql = set(
            (
                await session.execute(
                    select(Task.id).where(visible_projects(actor, Task.project_id))
                )
            )
            .scalars()
            .all()
        )
        by_rule = {
            p for p in project_ids if can_view_project(actor, roles.get((p, user.id)))
        }

        assert by_sql == by_rule, user.email
        assert tasks_by_sql == {task_ids[p] for p in by_rule}, user.email


@pytest.mark.parametrize("status", list(TaskStatus))
async def test_status_filter_matches_the_domain_definition(
    session: Any, status: TaskStatus
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    now = utcnow()
    for due in (None, now - timedelta(days=1), now + timedelta(days=1)):
        for completed in (False, True):
            await TaskFactory.create_async(
                project_id=project.id,
                due_date=due,
                is_completed=completed,
                completed_at=now if completed else None,
            )
    tasks = (await session.execute(select(Task))).scalars().all()

    by_sql = set(
        (await session.execute(select(Task.id).where(status_condition(status, now))))
        .scalars()
        .all()
    )

    def status_of(task: Task) -> TaskStatus:
        if task.is_completed:
            return TaskStatus.COMPLETED
        return TaskStatus.OVERDUE if task.is_overdue(now) else TaskStatus.PENDING

    assert by_sql == {t.id for t in tasks if status_of(t) is status}
    assert by_sql
