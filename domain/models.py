"""The data model: typed SQLAlchemy mappings and the invariants each entity keeps."""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

NAME_MAX = 200
DESCRIPTION_MAX = 10_000
EMAIL_MAX = 320


_ONE_MICROSECOND = timedelta(microseconds=1)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes with microseconds on every backend.

    SQLite has no time zones: values are stored as naive UTC text (which also sorts
    correctly for keyset pagination) and come back aware, so a timestamp read from the
    API compares equal when passed back as `expectedUpdatedAt`.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        if dialect.driver == "asyncpg":
            # asyncpg decodes timestamptz as aware UTC datetimes: nothing to do, and
            # a page of 200 tasks would call the processor 800 times.
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is UTC:
            return value  # asyncpg's timestamptz values: already UTC, no copy
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}


class Role(enum.StrEnum):
    USER = "USER"
    ADMIN = "ADMIN"


class ProjectRole(enum.StrEnum):
    OWNER = "OWNER"
    MEMBER = "MEMBER"


class TokenPurpose(enum.StrEnum):
    PASSWORD_RESET = "PASSWORD_RESET"  # noqa: S105 - a purpose, not a secret
    EMAIL_VERIFICATION = "EMAIL_VERIFICATION"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def touch(self, now: datetime) -> None:
        # Two changes inside one microsecond must still move updatedAt, or optimistic
        # concurrency could not tell them apart.
        self.updated_at = max(now, self.updated_at + _ONE_MICROSECOND)


def _versioned_by_updated_at(cls: Any) -> dict[str, Any]:
    # The application sets the new value itself (Timestamped.touch).
    return {"version_id_col": cls.__table__.c.updated_at, "version_id_generator": False}


class User(Timestamped, Base):
    __tablename__ = "users"
    __table_args__ = (Index("uq_users_email_lower", func.lower("email"), unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.USER)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


class UserRecord(NamedTuple):
    """A user as the read side shows them: the public columns, no password hash,
    no session tracking. Read for a response that shows neither timestamp, both
    are None."""

    id: int
    email: str
    name: str
    role: Role
    is_active: bool
    is_verified: bool
    created_at: datetime
    updated_at: datetime


# A user the read side shows: an entity where the write side's query loaded one.
UserView = User | UserRecord


class LoginThrottle(Base):
    """Failed logins per normalised email, known or not, so a lock reveals nothing."""

    __tablename__ = "login_throttles"

    email: Mapped[str] = mapped_column(String(EMAIL_MAX), primary_key=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def retry_after(self, now: datetime) -> int | None:
        """Seconds until the lock ends, or None when not locked."""
        if self.locked_until is None or self.locked_until <= now:
            return None
        return math.ceil((self.locked_until - now).total_seconds())

    def register_failure(
        self, now: datetime, max_attempts: int, lock_for: timedelta
    ) -> None:
        # Counting restarts with each lock, so an expired lock gives a fresh allowance.
        self.failed_attempts = (self.failed_attempts or 0) + 1
        if self.failed_attempts >= max_attempts:
            self.locked_until = now + lock_for
            self.failed_attempts = 0
        self.updated_at = now


class AuthSession(Base):
    """One login: the family of its rotating refresh tokens and the `sid` of its
    access tokens. Revoking it refuses both at once."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def revoke(self, now: datetime) -> None:
        if self.revoked_at is None:
            self.revoked_at = now


class RefreshToken(Base):
    """One link of a session's rotation chain; used once, then only a tripwire."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at <= now


class OneTimeToken(Base):
    """A password-reset or email-verification token, stored only as its hash."""

    __tablename__ = "one_time_tokens"
    __table_args__ = (Index("ix_one_time_tokens_user_purpose", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[TokenPurpose] = mapped_column(_enum(TokenPurpose, "token_purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


class Project(Timestamped, Base):
    __tablename__ = "projects"
    __table_args__ = (Index("ix_projects_owner_id_id", "owner_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    description: Mapped[str | None] = mapped_column(Text)
    # RESTRICT: users are deactivated, never deleted while they own projects.
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)

    # Every ORM UPDATE carries `WHERE updated_at = <the value read>`: of two
    # concurrent writers only one matches, the other gets CONFLICT (StaleDataError).
    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return _versioned_by_updated_at(cls)


class ProjectMember(Base):
    """Membership, the owner included (role OWNER), so visibility is one join."""

    __tablename__ = "project_members"
    __table_args__ = (
        Index("ix_project_members_user_id_project_id", "user_id", "project_id"),
    )

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[ProjectRole] = mapped_column(_enum(ProjectRole, "project_role"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class Task(Timestamped, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("priority BETWEEN 1 AND 5", name="priority_range"),
        # Keyset orders within a project; (project_id) alone would scan the pkey.
        Index("ix_tasks_project_id_id", "project_id", "id"),
        Index("ix_tasks_project_created", "project_id", "created_at", "id"),
        Index("ix_tasks_project_due", "project_id", "due_date", "id"),
        Index("ix_tasks_project_priority", "project_id", "priority", "id"),
        Index("ix_tasks_project_title", "project_id", "title", "id"),
        Index("ix_tasks_project_status", "project_id", "is_completed", "due_date"),
        Index("ix_tasks_assignee_created", "assignee_id", "created_at", "id"),
        Index("ix_tasks_created_at_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE")
    )
    title: Mapped[str] = mapped_column(String(NAME_MAX))
    description: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, default=3)
    is_completed: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_at: Mapped[datetime | None]
    due_date: Mapped[datetime | None]
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return _versioned_by_updated_at(cls)

    def is_overdue(self, now: datetime) -> bool:
        return task_is_overdue(self.is_completed, self.due_date, now)

    def set_completed(self, completed: bool, now: datetime) -> None:
        if completed and not self.is_completed:
            self.completed_at = now
        elif not completed:
            self.completed_at = None
        self.is_completed = completed


def task_is_overdue(
    is_completed: bool, due_date: datetime | None, now: datetime
) -> bool:
    return not is_completed and due_date is not None and due_date < now


class TaskRecord(NamedTuple):
    """A task as the read side lists it: its columns, without the session's identity
    map and change tracking, which cost more than the row for a page of tasks. A
    list whose response shows no description or timestamp reads it as None."""

    id: int
    project_id: int
    title: str
    description: str | None
    priority: int
    is_completed: bool
    completed_at: datetime | None
    due_date: datetime | None
    assignee_id: int | None
    created_at: datetime
    updated_at: datetime

    def is_overdue(self, now: datetime) -> bool:
        return task_is_overdue(self.is_completed, self.due_date, now)


class ProjectRecord(NamedTuple):
    """A project as the read side lists it, like TaskRecord: its columns only."""

    id: int
    name: str
    description: str | None
    owner_id: int
    is_archived: bool
    created_at: datetime
    updated_at: datetime


# A project the read side shows: an entity where the write side's query loaded one.
ProjectView = Project | ProjectRecord


class MailOutbox(Base):
    """Mail written in the transaction that caused it, delivered after commit."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_pending", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(EMAIL_MAX))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    operation: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class RateLimitCounter(Base):
    """Hits per bucket and fixed window, in the database to hold across workers."""

    __tablename__ = "rate_limit_counters"

    bucket: Mapped[str] = mapped_column(String(400), primary_key=True)
    # Indexed for pruning, which deletes by age across all buckets.
    window_start: Mapped[datetime] = mapped_column(primary_key=True, index=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)
