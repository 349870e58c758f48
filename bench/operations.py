"""The operations the benchmark drives, each a GraphQL request body built from the
seeded data set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Body = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Targets:
    """What the requests point at: ids in the seeded database, the bench user."""

    email: str
    password: str
    user_id: str  # global IDs
    project_id: str
    task_id: str  # a task of project_id, the one S1 updates


@dataclass(frozen=True, slots=True)
class Operation:
    key: str
    title: str
    build: Callable[[Targets], Body] | None
    needs_token: bool = True
    unavailable: str = ""  # why it cannot run yet, for the report

    def body(self, targets: Targets) -> Body:
        if self.build is None:
            raise ValueError(f"{self.key} has no request body")
        return self.build(targets)


USER_BY_ID = "query Q1($id: ID!) { user(id: $id) { id name email } }"

PROJECTS_WITH_TASKS = """query Q2 {
  projects(first: 20) {
    nodes {
      id name owner { name email }
      tasks(first: 10) { nodes { id title priority isCompleted assignee { name } } }
    }
  }
}"""

PENDING_TASKS = """query Q3($p: ID!) {
  tasks(first: 50, filter: {projectId: $p, status: PENDING}) {
    totalCount nodes { id title priority }
  }
}"""

CREATE_TASK = """mutation M1($input: CreateTaskInput!) {
  createTask(input: $input) { id title }
}"""

LOGIN = """mutation M2($input: LoginInput!) {
  login(input: $input) { accessToken }
}"""


def _body(query: str, variables: dict[str, Any] | None = None) -> Body:
    return {"query": query, "variables": variables or {}}


def login_body(targets: Targets) -> Body:
    return _body(
        LOGIN, {"input": {"email": targets.email, "password": targets.password}}
    )


OPERATIONS: tuple[Operation, ...] = (
    Operation("Q1", "user(id:)", lambda t: _body(USER_BY_ID, {"id": t.user_id})),
    Operation(
        "Q2",
        "projects(first: 20) + owner + tasks(first: 10)",
        lambda t: _body(PROJECTS_WITH_TASKS),
    ),
    Operation(
        "Q3",
        "first 50 PENDING tasks of a project + totalCount",
        lambda t: _body(PENDING_TASKS, {"p": t.project_id}),
    ),
    Operation(
        "M1",
        "createTask",
        lambda t: _body(
            CREATE_TASK,
            {
                "input": {
                    "projectId": t.project_id,
                    "title": "Bench task",
                    "priority": 3,
                }
            },
        ),
    ),
    Operation("M2", "login (argon2-bound)", login_body, needs_token=False),
    # Driven by bench/subscribers.py over WebSockets, not by wrk.
    Operation("S1", "taskEvents: 1 update fanned out to 100 subscribers", None),
)


def select(keys: str) -> list[Operation]:
    wanted = [key.strip().upper() for key in keys.split(",") if key.strip()]
    unknown = set(wanted) - {op.key for op in OPERATIONS}
    if unknown:
        raise ValueError(f"unknown operations: {', '.join(sorted(unknown))}")
    return [op for op in OPERATIONS if op.key in wanted]
