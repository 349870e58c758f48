"""PostGraphile on the same data and machine, driven as bench.run drives trackql: the
reference of issue 6's targets, measured in the same run instead of quoted.

    python -m bench.postgraphile                        # PostGraphile 4: 1, 2 processes
    python -m bench.postgraphile --workers 1 --duration 10 --modes member

It needs Node.js and npm (postgraphile@4 is installed into ~/.cache/trackql-bench
on first use), wrk, and the PostgreSQL server that bench.run uses. Run
`python -m bench.run --operations Q1,Q2,Q3 --backends postgresql` right before or
after it: rates on a shared VM move between runs, so compare within one sitting.

It runs in two modes:

- `anonymous` serves the seeded database as it is: no JWT and no row-level
  security, so it checks no session and no membership.
- `member` does the checks trackql does on every request, the way a team would
  deploy PostGraphile for it. Each request carries a JWT (HS256, verified by
  PostGraphile) of the bench user and a live session of theirs; PostGraphile sets
  the JWT's role and claims in a transaction around each request, and row-level
  security policies refuse every row unless the session is live and the user
  active (users), and the user is a member of the project (projects, tasks). The
  policies filter the tasks of Q2's projects too, which trackql does not filter
  again under a visible project; admins are not modelled (the bench user is none).

Its requests: Q1 `userById`; Q2 `allProjects(first: 20)` with
`userByOwnerId` and `tasksByProjectId(first: 10)` with `userByAssigneeId`; Q3
`allTasks(first: 50, condition: {projectId, isCompleted: false})` with
`totalCount`, which also counts overdue tasks (a condition is an equality).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import secrets
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import create_async_engine

from bench import load, server
from bench.operations import Body, Targets
from bench.run import add_admin_url, find_targets
from domain.models import AuthSession, User, utcnow

PACKAGE = "postgraphile@4"
MODES = ("anonymous", "member")
CACHE = Path.home() / ".cache" / "trackql-bench" / "postgraphile4"


def requests(targets: Targets) -> dict[str, Body]:
    user, project = _number(targets.user_id), _number(targets.project_id)
    tasks = "id title priority isCompleted userByAssigneeId { name }"
    return {
        "Q1": {"query": f"{{ userById(id: {user}) {{ id name email }} }}"},
        "Q2": {
            "query": "{ allProjects(first: 20) { nodes { id name "
            "userByOwnerId { name email } "
            f"tasksByProjectId(first: 10) {{ nodes {{ {tasks} }} }} }} }} }}"
        },
        "Q3": {
            "query": "{ allTasks(first: 50, condition: "
            f"{{projectId: {project}, isCompleted: false}}) "
            "{ totalCount nodes { id title priority } } }"
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.postgraphile", description=__doc__)
    parser.add_argument("--workers", default="1,2", help="PostGraphile processes")
    parser.add_argument("--modes", default="anonymous,member", help=__doc__)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    add_admin_url(parser)
    args = parser.parse_args(argv)
    if load.wrk_missing("bench.postgraphile"):
        return 2
    modes = [mode for mode in args.modes.split(",") if mode]
    if unknown := set(modes) - set(MODES):
        parser.error(f"unknown modes: {', '.join(sorted(unknown))}")
    command = _installed()
    print(f"PostGraphile {_version()}, {args.concurrency} connections")
    print("| op | mode | processes | req/s | p50 ms | p99 ms | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    with server.postgres_database(args.admin_url) as url:
        bench_user = server.migrate_and_seed(server.server_env(url), 1.0)
        targets = asyncio.run(find_targets(url, bench_user))
        plain = make_url(url).set(drivername="postgresql")
        database_url = plain.render_as_string(hide_password=False)
        for mode in modes:
            with _access(mode, url, targets) as access:
                for workers in (int(w) for w in args.workers.split(",")):
                    with _serving(command, database_url, workers, access) as base:
                        for key, body in requests(targets).items():
                            run = _measure(base, body, access, args)
                            print(
                                f"| {key} | {mode} | {workers} | "
                                f"{run.per_second:,.0f} | {run.p50_ms:.1f} | "
                                f"{run.p99_ms:.1f} | {run.errors} |",
                                flush=True,
                            )
    return 0


def _measure(
    base: str, body: Body, access: MemberAccess | None, args: argparse.Namespace
) -> load.Load:
    token = access.token if access is not None else None
    drive = {"connections": args.concurrency}
    load.drive(base, body, token, seconds=args.warmup, **drive)
    return load.drive(base, body, token, seconds=args.duration, **drive)


@dataclass(frozen=True, slots=True)
class MemberAccess:
    """What PostGraphile needs to check requests as trackql does."""

    role: str  # the PostgreSQL role the JWT names
    secret: str
    token: str  # the bench user's, for a live session


# Run as the database owner. `bench_viewer()` is SECURITY DEFINER so that the
# policy of `users` may read `users` without recursing; called through a
# sub-select, it becomes one InitPlan per statement, like trackql's one session
# check per request.
MEMBER_SQL = """
CREATE FUNCTION bench_viewer() RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT s.user_id FROM auth_sessions s JOIN users u ON u.id = s.user_id
  WHERE s.id = current_setting('jwt.claims.sid', true)
    AND s.user_id = nullif(current_setting('jwt.claims.sub', true), '')::integer
    AND s.revoked_at IS NULL AND u.is_active
$$;
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT ON users, projects, project_members, tasks TO {role};
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
CREATE POLICY live_session ON users USING ((SELECT bench_viewer()) IS NOT NULL);
CREATE POLICY member ON projects USING (EXISTS (
  SELECT 1 FROM project_members m
  WHERE m.project_id = projects.id AND m.user_id = (SELECT bench_viewer())));
CREATE POLICY member ON tasks USING (EXISTS (
  SELECT 1 FROM project_members m
  WHERE m.project_id = tasks.project_id AND m.user_id = (SELECT bench_viewer())));
"""


def _access(
    mode: str, url: str, targets: Targets
) -> AbstractContextManager[MemberAccess | None]:
    # Superusers and table owners pass row-level security: the anonymous mode
    # reads every row, before or after the member mode's policies.
    return _member_access(url, targets) if mode == "member" else nullcontext()


@contextmanager
def _member_access(url: str, targets: Targets) -> Iterator[MemberAccess]:
    """A role, the policies and a live session of the bench user; the role, which
    outlives the database (roles belong to the cluster), is dropped at the end."""
    role = f"{make_url(url).database}_member"
    session_id = str(uuid.uuid4())
    secret = secrets.token_urlsafe(32)
    try:
        user_id = asyncio.run(_grant_member_access(url, role, session_id, targets))
        claims = {
            "aud": "postgraphile",
            "role": role,
            "sub": str(user_id),
            "sid": session_id,
            "exp": int(time.time()) + 4 * 3600,
        }
        yield MemberAccess(role, secret, jwt.encode(claims, secret, algorithm="HS256"))
    finally:
        asyncio.run(_drop_role(url, role))


async def _grant_member_access(
    url: str, role: str, session_id: str, targets: Targets
) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE ROLE "{role}" NOLOGIN'))
            for statement in MEMBER_SQL.format(role=f'"{role}"').split(";\n"):
                if statement.strip():
                    await conn.execute(text(statement))
            user_id: int = (
                await conn.execute(select(User.id).where(User.email == targets.email))
            ).scalar_one()
            await conn.execute(
                insert(AuthSession).values(
                    id=session_id, user_id=user_id, created_at=utcnow()
                )
            )
        return user_id
    finally:
        await engine.dispose()


async def _drop_role(url: str, role: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            # The database holds the role's grants: they go first.
            await conn.execute(text(f'DROP OWNED BY "{role}"'))
            await conn.execute(text(f'DROP ROLE "{role}"'))
    except ProgrammingError:
        pass  # the role was never created
    finally:
        await engine.dispose()


def _installed() -> Path:
    command = CACHE / "node_modules" / ".bin" / "postgraphile"
    if not command.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--silent", "--prefix", str(CACHE), PACKAGE],
            check=True,
        )
    return command


def _version() -> str:
    manifest = CACHE / "node_modules" / "postgraphile" / "package.json"
    return str(json.loads(manifest.read_text())["version"])


@contextmanager
def _serving(
    command: Path, database_url: str, workers: int, access: MemberAccess | None
) -> Iterator[str]:
    port = server.free_port()
    cluster = ["--cluster-workers", str(workers)] if workers > 1 else []
    auth = (
        ["--jwt-secret", access.secret, "--default-role", access.role] if access else []
    )
    arguments = [
        *("-c", database_url, "--schema", "public", "--disable-query-log"),
        *("--host", "127.0.0.1", "--port", str(port), *cluster, *auth),
    ]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="trackql-postgraphile-") as folder:
        log = Path(folder) / "postgraphile.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [str(command), *arguments],
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            server.wait_until_ready(
                process, lambda: _answers(base), log, "PostGraphile"
            )
            yield base
        finally:
            server.stop(process)


def _answers(base: str) -> bool:
    query = {"query": "{ __typename }"}
    return httpx.post(f"{base}/graphql", json=query, timeout=1).status_code == 200


def _number(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().partition(":")[2])


if __name__ == "__main__":
    raise SystemExit(main())
