"""GraphQL for tasks: the Task type, the task queries and mutations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from functools import partial

import strawberry

from domain import models
from domain import tasks as use_cases
from domain.access import Actor, can_update_task
from domain.errors import NotFound
from domain.inputs import KEEP, Change
from graph.accounts import DATED_FIELDS, UserType
from graph.context import Context
from graph.inputs import (
    TaskFilter,
    TaskOrder,
    change,
    optional_id,
    task_filter,
    task_order,
)
from graph.loaders import Loaders, TaskPages, assignee_ids
from graph.lookahead import load_now, node_child_selects, node_selects, selects
from graph.projects import DeletePayload, ProjectType, viewer_role
from graph.relay import Connection, Node, decode_id, given, page_request, to_global_id
from graph.transactions import mutation
from persistence import task_lists
from persistence.keyset import Page, PageRequest
from persistence.task_lists import TaskListing


@strawberry.type(name="Task")
class TaskType(Node):
    title: str
    description: str | None
    priority: int
    is_completed: bool
    completed_at: datetime | None
    due_date: datetime | None
    is_overdue: bool
    db_id: strawberry.Private[int]
    project_id: strawberry.Private[int]
    assignee_id: strawberry.Private[int | None]
    # The request's: `assignee` then needs no Info, which a page of 200 tasks
    # would otherwise build 200 times.
    loaders: strawberry.Private[Loaders]
    # Whether `assignee` is read with its timestamps (Loaders.users).
    dated_assignee: strawberry.Private[bool]

    @classmethod
    def from_model(
        cls,
        task: models.Task | models.TaskRecord,
        context: Context,
        *,
        dated_assignee: bool = True,
    ) -> TaskType:
        """The task as the request of `context` sees it."""
        return cls(
            id=to_global_id("Task", task.id),
            db_id=task.id,
            project_id=task.project_id,
            assignee_id=task.assignee_id,
            title=task.title,
            description=task.description,
            priority=task.priority,
            is_completed=task.is_completed,
            completed_at=task.completed_at,
            due_date=task.due_date,
            is_overdue=task.is_overdue(context.now),
            created_at=task.created_at,
            updated_at=task.updated_at,
            loaders=context.loaders,
            dated_assignee=dated_assignee,
        )

    @strawberry.field
    async def project(self, info: strawberry.Info[Context, None]) -> ProjectType:
        project = await info.context.loaders.project.load(self.project_id)
        assert project is not None  # tasks.project_id is a foreign key
        return ProjectType.from_model(project, info.context.loaders)

    # Not async: under a connection that loaded the assignees up front (see
    # _connection and Loaders._task_pages) it answers without awaiting; elsewhere
    # it returns the awaitable.
    @strawberry.field(graphql_type=UserType | None)
    def assignee(self) -> UserType | Awaitable[UserType | None] | None:
        if self.assignee_id is None:
            return None
        loaders = self.loaders
        return load_now(
            loaders.users(self.dated_assignee),
            self.assignee_id,
            _user_type,
            loaders.converted_users,
        )

    @strawberry.field
    async def viewer_can_update(self, info: strawberry.Info[Context, None]) -> bool:
        context = info.context
        actor = await context.require_actor()
        project = await context.loaders.project.load(self.project_id)
        role = await viewer_role(context, self.project_id, actor)
        return project is not None and can_update_task(actor, role, project)

    created_at: datetime
    updated_at: datetime


def _user_type(user: models.UserView | None) -> UserType | None:
    return None if user is None else UserType.from_model(user)


async def _connection(
    info: strawberry.Info[Context, None],
    page: Page[models.TaskRecord],
    count: Callable[[], Awaitable[int]],
) -> Connection[TaskType]:
    context = info.context
    dated = _dated_assignees(info)
    if node_selects(info, "assignee"):
        # One batch for the page, instead of one awaiting resolver per task.
        await context.loaders.users(dated).load_many(assignee_ids([page]))
    return _built(context, page, count, dated)


def _built(
    context: Context,
    page: Page[models.TaskRecord],
    count: Callable[[], Awaitable[int]],
    dated_assignees: bool,
) -> Connection[TaskType]:
    def convert(task: models.TaskRecord) -> TaskType:
        return TaskType.from_model(task, context, dated_assignee=dated_assignees)

    return Connection[TaskType].build(page, convert, count)


def _dated_assignees(info: strawberry.Info[Context, None]) -> bool:
    return node_child_selects(info, "assignee", *DATED_FIELDS)


# The optional columns of a task list (persistence.task_lists.OPTIONAL_COLUMNS)
# that each field of Task reads.
_COLUMNS_OF = {
    "description": "description",
    "completedAt": "completed_at",
    "dueDate": "due_date",
    "isOverdue": "due_date",
    "createdAt": "created_at",
    "updatedAt": "updated_at",
}


def _listing(
    info: strawberry.Info[Context, None],
    filter: TaskFilter | None,
    order_by: TaskOrder | None,
    viewer: Actor | None = None,
) -> TaskListing:
    """The list a connection field asks for, with the columns its response shows:
    those its nodes select, and the order's when it selects a cursor."""
    order = task_order(order_by)
    shown = {column for name, column in _COLUMNS_OF.items() if node_selects(info, name)}
    if selects(info, "edges") or selects(info, "pageInfo"):
        shown |= order.cursor_columns()
    now = info.context.now
    return TaskListing(task_filter(filter), order, now, viewer, frozenset(shown))


def _pages_spec(
    info: strawberry.Info[Context, None], listing: TaskListing, request: PageRequest
) -> TaskPages:
    # The loader batches the pages of sibling connections, and their assignees
    # when the nodes select them.
    return (listing, request, node_selects(info, "assignee"), _dated_assignees(info))


async def project_tasks(
    info: strawberry.Info[Context, None],
    project_ids: Sequence[int],
    request: PageRequest,
    filter: TaskFilter | None,
    order_by: TaskOrder | None,
) -> list[Connection[TaskType]]:
    """Project.tasks of some projects: the caller sees them, so every task of each."""
    context = info.context
    listing = _listing(info, filter, order_by)
    spec = _pages_spec(info, listing, request)
    *_, dated_assignees = spec
    loaders = context.loaders
    pages = await loaders.project_tasks.load_many([(i, spec) for i in project_ids])
    count = loaders.project_task_count.load
    return [
        _built(context, page, partial(count, (project_id, listing)), dated_assignees)
        for project_id, page in zip(project_ids, pages, strict=True)
    ]


async def assigned_tasks(
    info: strawberry.Info[Context, None],
    user_id: int,
    request: PageRequest,
    filter: TaskFilter | None,
    order_by: TaskOrder | None,
) -> Connection[TaskType]:
    """User.assignedTasks: only those in projects the caller may see."""
    context = info.context
    actor = await context.require_actor()
    listing = _listing(info, filter, order_by, actor)
    spec = _pages_spec(info, listing, request)
    *_, dated_assignees = spec
    page = await context.loaders.assigned_tasks.load((user_id, spec))
    loader = context.loaders.assigned_task_count
    return _built(
        context, page, lambda: loader.load((user_id, listing)), dated_assignees
    )


async def task_node(context: Context, ident: int) -> TaskType | None:
    actor = await context.require_actor()
    task = await context.loaders.visible_task.load((ident, actor))
    return None if task is None else TaskType.from_model(task, context)


@strawberry.type
class TasksQuery:
    @strawberry.field
    async def task(
        self, info: strawberry.Info[Context, None], id: strawberry.ID
    ) -> TaskType | None:
        found = await task_node(info.context, decode_id(id, "Task"))
        if found is None:
            raise NotFound.of("Task", id)
        return found

    @strawberry.field
    async def tasks(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = strawberry.UNSET,
        after: str | None = strawberry.UNSET,
        last: int | None = strawberry.UNSET,
        before: str | None = strawberry.UNSET,
        filter: TaskFilter | None = strawberry.UNSET,
        order_by: TaskOrder | None = strawberry.UNSET,
    ) -> Connection[TaskType]:
        context = info.context
        actor = await context.require_actor()
        listing = _listing(info, filter, order_by, actor)
        request = page_request(first, after, last, before)
        total: int | None = None
        if selects(info, "totalCount"):
            # One statement for page and count: Q3 of the benchmark.
            page, total = await task_lists.counted_tasks_page(
                context.uow, listing, request
            )
        else:
            page = await task_lists.tasks_page(context.uow, listing, request)

        async def count() -> int:
            if total is not None:
                return total
            return await task_lists.count_tasks(context.uow, listing)

        return await _connection(info, page, count)


@strawberry.input
class CreateTaskInput:
    project_id: strawberry.ID
    title: str
    description: str | None = strawberry.UNSET
    priority: int | None = use_cases.DEFAULT_PRIORITY
    due_date: datetime | None = strawberry.UNSET
    assignee_id: strawberry.ID | None = strawberry.UNSET
    idempotency_key: str | None = strawberry.UNSET

    def to_new_task(self) -> use_cases.NewTask:
        return use_cases.NewTask(
            project_id=decode_id(self.project_id, "Project", argument="projectId"),
            title=self.title,
            description=given(self.description),
            priority=given(self.priority),
            due_date=given(self.due_date),
            assignee_id=optional_id(self.assignee_id, "User", "assigneeId"),
            idempotency_key=given(self.idempotency_key),
        )


@strawberry.input
class UpdateTaskInput:
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    priority: int | None = strawberry.UNSET
    due_date: datetime | None = strawberry.UNSET
    assignee_id: strawberry.ID | None = strawberry.UNSET
    is_completed: bool | None = strawberry.UNSET
    expected_updated_at: datetime | None = strawberry.UNSET

    def to_changes(self) -> use_cases.TaskChanges:
        return use_cases.TaskChanges(
            title=change(self.title),
            description=change(self.description),
            priority=change(self.priority),
            due_date=change(self.due_date),
            assignee_id=assignee_change(self.assignee_id),
            is_completed=change(self.is_completed),
            expected_updated_at=given(self.expected_updated_at),
        )


@strawberry.input(name="TaskPatch")
class TaskPatchInput:
    priority: int | None = strawberry.UNSET
    due_date: datetime | None = strawberry.UNSET
    assignee_id: strawberry.ID | None = strawberry.UNSET
    is_completed: bool | None = strawberry.UNSET

    def to_patch(self) -> use_cases.TaskPatch:
        return use_cases.TaskPatch(
            priority=change(self.priority),
            due_date=change(self.due_date),
            assignee_id=assignee_change(self.assignee_id),
            is_completed=change(self.is_completed),
        )


def assignee_change(value: strawberry.ID | None) -> Change[int]:
    if value is strawberry.UNSET:
        return KEEP
    return optional_id(value, "User", "assigneeId")


@strawberry.input
class BulkUpdateTasksInput:
    task_ids: list[strawberry.ID] = strawberry.field(description="At most 500.")
    patch: TaskPatchInput
    idempotency_key: str | None = strawberry.UNSET

    def ids(self) -> list[int]:
        return [decode_id(raw, "Task", argument="taskIds") for raw in self.task_ids]


@strawberry.type
class BulkUpdateTasksPayload:
    updated_count: int
    tasks: list[TaskType]


@strawberry.type
class TasksMutation:
    @mutation(description="Project owner or member, or admin.")
    async def create_task(
        self, info: strawberry.Info[Context, None], input: CreateTaskInput
    ) -> TaskType:
        deps = await info.context.use_case_deps()
        task = await use_cases.create_task(input.to_new_task(), **deps)
        return TaskType.from_model(task, info.context)

    @mutation
    async def update_task(
        self,
        info: strawberry.Info[Context, None],
        id: strawberry.ID,
        input: UpdateTaskInput,
    ) -> TaskType:
        deps = await info.context.use_case_deps()
        task = await use_cases.update_task(
            decode_id(id, "Task"), input.to_changes(), **deps
        )
        return TaskType.from_model(task, info.context)

    @mutation
    async def delete_task(
        self, info: strawberry.Info[Context, None], id: strawberry.ID
    ) -> DeletePayload:
        deps = await info.context.use_case_deps()
        deleted = await use_cases.delete_task(decode_id(id, "Task"), **deps)
        return DeletePayload(deleted_id=to_global_id("Task", deleted))

    @mutation(description="All or nothing; at most 500 ids.")
    async def bulk_update_tasks(
        self, info: strawberry.Info[Context, None], input: BulkUpdateTasksInput
    ) -> BulkUpdateTasksPayload:
        deps = await info.context.use_case_deps()
        tasks = await use_cases.bulk_update_tasks(
            input.ids(), input.patch.to_patch(), given(input.idempotency_key), **deps
        )
        return BulkUpdateTasksPayload(
            updated_count=len(tasks),
            tasks=[TaskType.from_model(task, info.context) for task in tasks],
        )
