"""The `trackql` command: serve, migrate, export-schema, and administrative tasks."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import secrets
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from domain.accounts import create_admin
from domain.errors import Conflict, DomainError
from domain.models import User, utcnow
from graph.settings import Settings, SettingsError
from persistence.engine import (
    create_engine,
    create_session_factory,
    is_sqlite,
    normalize_url,
)
from persistence.migrate import upgrade
from persistence.uow import SqlUnitOfWork

Command = Callable[[argparse.Namespace, Settings], int]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"trackql: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    command: Command = args.command
    return command(args, settings)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trackql", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(command=_serve)

    migrate = sub.add_parser("migrate", help="bring the database to the newest schema")
    migrate.set_defaults(command=_migrate)

    export = sub.add_parser("export-schema", help="write the GraphQL schema (SDL)")
    export.add_argument("--output", default="schema.graphql", help="a path, or -")
    export.set_defaults(command=_export_schema)

    seed = sub.add_parser("seed-demo", help="add demo users, projects and tasks")
    seed.set_defaults(command=_seed_demo)
    admin = sub.add_parser(
        "create-admin",
        help="create an administrator; the password is asked for twice, or read "
        "from stdin when stdin is not a terminal (never from the command line)",
    )
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", required=True)
    admin.set_defaults(command=_create_admin)
    bench = sub.add_parser("seed-bench", help="fill an empty database for benchmarks")
    bench.add_argument("--scale", type=_positive_float, default=1.0)
    bench.set_defaults(command=_seed_bench)
    return parser


def _positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    if is_sqlite(normalize_url(settings.database_url)):
        if args.workers > 1:
            print(
                "trackql: SQLite serves one worker; use PostgreSQL for more",
                file=sys.stderr,
            )
            return 2
        _run_migrations(settings)
    uvicorn.run(
        "graph.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level.lower(),
        # The app honours X-Forwarded-For itself, and only from
        # TRACKQL_TRUSTED_PROXIES (graph/app.py); uvicorn's default would trust
        # 127.0.0.1 (or FORWARDED_ALLOW_IPS) without our setting saying so.
        proxy_headers=False,
        # On SIGTERM, requests in flight may finish, but a client that trickles its
        # body must not hold a deploy forever.
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
    )
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    _run_migrations(settings)
    print("database is at the newest revision")
    return 0


def _run_migrations(settings: Settings) -> None:
    async def run() -> None:
        engine = create_engine(settings.database_url, settings.pool)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


def _seed_bench(args: argparse.Namespace, settings: Settings) -> int:
    from domain.security import hash_password
    from persistence.seeding import seed_database

    password = secrets.token_urlsafe(12)
    seeding = seed_database(
        settings.database_url,
        settings.pool,
        password_hash=hash_password(password),
        now=utcnow(),
        scale=args.scale,
    )
    try:
        summary = asyncio.run(seeding)
    except Conflict as exc:
        print(f"trackql: {exc}", file=sys.stderr)
        return 1
    print(f"seeded {summary.describe()}")
    print(f"bench user: {summary.bench_email} {password}")
    return 0


def _export_schema(args: argparse.Namespace, settings: Settings) -> int:
    from graph.schema import export_schema

    sdl = export_schema()
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        Path(args.output).write_text(sdl)
    return 0


def _seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    from domain.demo import DEMO_PASSWORD, DEMO_USERS

    _run_migrations(settings)
    if asyncio.run(_write_demo(settings)):
        print("demo data written; sign in with any of these:")
    else:
        print("demo data is already there; nothing changed. Sign in with:")
    for user in DEMO_USERS:
        print(f"  {user.email:<22} {DEMO_PASSWORD}  ({user.role.value.lower()})")
    return 0


async def _write_demo(settings: Settings) -> bool:
    from domain.demo import DEMO_PASSWORD, seed_demo
    from domain.security import hash_password

    engine = create_engine(settings.database_url, settings.pool)
    uow = SqlUnitOfWork(create_session_factory(engine), writes=True)
    try:
        # One argon2 hash for every demo user: hashing is deliberately slow.
        hashed = hash_password(DEMO_PASSWORD)
        created = await seed_demo(uow=uow, clock=utcnow, password_hash=hashed)
        await uow.commit()
        return created
    finally:
        await uow.close()
        await engine.dispose()


def _create_admin(args: argparse.Namespace, settings: Settings) -> int:
    try:
        password = _read_password()
        user = asyncio.run(_insert_admin(settings, args.email, args.name, password))
    except (DomainError, PasswordEntryError) as exc:
        print(f"trackql: {exc}", file=sys.stderr)
        return 1
    print(f"created administrator {user.email} (id {user.id})")
    return 0


class PasswordEntryError(Exception):
    """The password could not be read, or its two entries differ."""


def _read_password() -> str:
    if not sys.stdin.isatty():
        # One line, as `printf '%s\n' "$PASSWORD" | trackql create-admin ...` gives.
        return sys.stdin.readline().rstrip("\r\n")
    try:
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Password (again): ")
    except EOFError:
        raise PasswordEntryError("no password given") from None
    if first != second:
        raise PasswordEntryError("the two passwords differ")
    return first


async def _insert_admin(
    settings: Settings, email: str, name: str, password: str
) -> User:
    engine = create_engine(settings.database_url, settings.pool)
    try:
        if is_sqlite(normalize_url(settings.database_url)):
            await upgrade(engine)
        uow = SqlUnitOfWork(create_session_factory(engine), writes=True)
        try:
            user = await create_admin(email, password, name, uow=uow, clock=utcnow)
            await uow.commit()
        finally:
            await uow.close()
    finally:
        await engine.dispose()
    return user


if __name__ == "__main__":
    raise SystemExit(main())
