"""The demo data behind `trackql seed-demo`: people, projects, members and tasks of
every status, written through the use cases so that they keep every rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain.access import Actor
from domain.models import Role, User
from domain.ports import Clock, UnitOfWork
from domain.projects import (
    ProjectChanges,
    add_project_member,
    create_project,
    update_project,
)
from domain.tasks import NewTask, TaskChanges, create_task, update_task

DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - printed for people to sign in with


@dataclass(frozen=True, slots=True)
class DemoUser:
    email: str
    name: str
    role: Role = Role.USER


DEMO_USERS = (
    DemoUser("demo@trackql.dev", "Dana Demo"),
    DemoUser("admin@trackql.dev", "Ada Admin", Role.ADMIN),
    DemoUser("grace@trackql.dev", "Grace Hopper"),
    DemoUser("linus@trackql.dev", "Linus Torvalds"),
)

# (title, priority, due in days (None: no due date), assignee index, completed)
TaskSpec = tuple[str, int, int | None, int | None, bool]


@dataclass(frozen=True, slots=True)
class DemoProject:
    name: str
    description: str
    owner: int
    members: tuple[int, ...]
    tasks: tuple[TaskSpec, ...]
    archived: bool = False


DEMO_PROJECTS = (
    DemoProject(
        "Website relaunch",
        "New landing page, docs and blog before the spring release.",
        owner=0,
        members=(2, 3),
        tasks=(
            ("Write the landing page copy", 4, 5, 0, False),
            ("Pick a colour palette", 2, -3, 2, True),
            ("Migrate the blog posts", 3, -2, 3, False),
            ("Set up redirects from the old URLs", 5, 1, 0, False),
            ("Accessibility review", 4, 14, 2, False),
            ("Decide on analytics", 1, None, None, False),
        ),
    ),
    DemoProject(
        "Mobile app 2.0",
        "Offline mode and push notifications.",
        owner=2,
        members=(0,),
        tasks=(
            ("Design the offline sync protocol", 5, 10, 2, False),
            ("Prototype push notifications", 3, -1, 0, False),
            ("Beta testers sign-up form", 2, 3, 0, True),
            ("Crash reporting", 4, None, 2, False),
        ),
    ),
    DemoProject(
        "Quarterly planning",
        "Goals and budget for next quarter.",
        owner=0,
        members=(),
        tasks=(
            ("Draft the goals", 3, 7, 0, False),
            ("Collect team feedback", 2, None, None, False),
        ),
    ),
    DemoProject(
        "Office move (done)",
        "Finished last year; kept for reference.",
        owner=3,
        members=(0,),
        tasks=(("Book the movers", 3, -60, 3, True),),
        archived=True,
    ),
)


async def seed_demo(*, uow: UnitOfWork, clock: Clock, password_hash: str) -> bool:
    """Write the demo data; False (changing nothing) when it is already there.
    `password_hash` is DEMO_PASSWORD hashed once, shared by every demo user."""
    if await uow.users.by_email(DEMO_USERS[0].email) is not None:
        return False
    now = clock()
    users = [
        User(
            email=u.email,
            name=u.name,
            role=u.role,
            password_hash=password_hash,
            is_active=True,
            is_verified=True,
            created_at=now,
            updated_at=now,
        )
        for u in DEMO_USERS
    ]
    for user in users:
        uow.add(user)
    await uow.flush()
    for spec in DEMO_PROJECTS:
        await _seed_project(spec, users, uow=uow, clock=clock)
    return True


async def _seed_project(
    spec: DemoProject, users: list[User], *, uow: UnitOfWork, clock: Clock
) -> None:
    owner = users[spec.owner]
    actor = Actor(owner.id, owner.role)
    project = await create_project(
        spec.name, spec.description, uow=uow, actor=actor, clock=clock
    )
    for index in spec.members:
        await add_project_member(
            project.id, users[index].id, uow=uow, actor=actor, clock=clock
        )
    for title, priority, due_in, assignee, completed in spec.tasks:
        due = None if due_in is None else clock() + timedelta(days=due_in)
        new = NewTask(
            project_id=project.id,
            title=title,
            priority=priority,
            due_date=due,
            assignee_id=None if assignee is None else users[assignee].id,
        )
        task = await create_task(new, uow=uow, actor=actor, clock=clock)
        if completed:
            done = TaskChanges(is_completed=True)
            await update_task(task.id, done, uow=uow, actor=actor, clock=clock)
    if spec.archived:
        archive = ProjectChanges(is_archived=True)
        await update_project(project.id, archive, uow=uow, actor=actor, clock=clock)
