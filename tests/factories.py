"""Factories for every model; each test binds them to its database session."""

from __future__ import annotations

from itertools import count

from polyfactory import Ignore, Use
from polyfactory.factories.sqlalchemy_factory import SQLAlchemyFactory

from domain.models import (
    AuthSession,
    Project,
    ProjectMember,
    ProjectRole,
    Role,
    Task,
    User,
    utcnow,
)
from domain.security import hash_password

PASSWORD = "correct horse battery staple"
# Hashing once keeps factories fast; every factory user logs in with PASSWORD.
PASSWORD_HASH = hash_password(PASSWORD)
_sequence = count(1)


class UserFactory(SQLAlchemyFactory[User]):
    __check_model__ = False
    __set_relationships__ = False
    id = Ignore()
    email = Use(lambda: f"user{next(_sequence)}@example.com")
    name = Use(lambda: f"User {next(_sequence)}")
    password_hash = PASSWORD_HASH
    role = Role.USER
    is_active = True
    is_verified = True
    created_at = Use(utcnow)
    updated_at = Use(utcnow)


class AuthSessionFactory(SQLAlchemyFactory[AuthSession]):
    __check_model__ = False
    id = Use(lambda: f"session-{next(_sequence)}")
    created_at = Use(utcnow)
    revoked_at = None


class ProjectFactory(SQLAlchemyFactory[Project]):
    __check_model__ = False
    id = Ignore()
    name = Use(lambda: f"Project {next(_sequence)}")
    description = None
    is_archived = False
    created_at = Use(utcnow)
    updated_at = Use(utcnow)


class ProjectMemberFactory(SQLAlchemyFactory[ProjectMember]):
    __check_model__ = False
    role = ProjectRole.MEMBER
    added_at = Use(utcnow)


class TaskFactory(SQLAlchemyFactory[Task]):
    __check_model__ = False
    id = Ignore()
    title = Use(lambda: f"Task {next(_sequence)}")
    description = None
    priority = 3
    is_completed = False
    completed_at = None
    due_date = None
    assignee_id = None
    created_at = Use(utcnow)
    updated_at = Use(utcnow)


ALL_FACTORIES: tuple[type[SQLAlchemyFactory[object]], ...] = (  # type: ignore[assignment]
    UserFactory,
    AuthSessionFactory,
    ProjectFactory,
    ProjectMemberFactory,
    TaskFactory,
)


async def project_with_members(
    owner: User, *members: User, **fields: object
) -> Project:
    """A project with the membership rows createProject makes: the owner (role
    OWNER) and each member."""
    project = await ProjectFactory.create_async(owner_id=owner.id, **fields)
    await ProjectMemberFactory.create_async(
        project_id=project.id, user_id=owner.id, role=ProjectRole.OWNER
    )
    for member in members:
        await ProjectMemberFactory.create_async(
            project_id=project.id, user_id=member.id
        )
    return project
