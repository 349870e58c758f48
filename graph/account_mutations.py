"""GraphQL for the account life: register, log in, refresh, log out, reset and
change passwords, verify emails, update users."""

from __future__ import annotations

from typing import TypeVar

import strawberry

from domain import accounts, recovery, sessions
from domain.models import Role
from domain.patch import KEEP, Keep
from domain.security import NewPassword
from graph.accounts import UserType
from graph.context import Context
from graph.relay import decode_id
from graph.transactions import mutation

T = TypeVar("T")
Info = strawberry.Info[Context, None]


@strawberry.type
class AuthPayload:
    access_token: str
    refresh_token: str
    token_type: str = strawberry.field(description='Always "bearer".')
    expires_in: int = strawberry.field(
        description="Seconds until the access token expires."
    )
    user: UserType

    @classmethod
    def from_tokens(cls, tokens: sessions.AuthTokens) -> AuthPayload:
        return cls(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            token_type=sessions.TOKEN_TYPE,
            expires_in=tokens.expires_in,
            user=UserType.from_model(tokens.user),
        )


@strawberry.input
class RegisterInput:
    email: str
    password: str
    name: str


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.input(description="Omitted fields are left as they are.")
class UpdateUserInput:
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    role: Role | None = strawberry.field(
        default=strawberry.UNSET, description="Admins only."
    )
    is_active: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Admins only."
    )

    def to_changes(self) -> accounts.UserChanges:
        return accounts.UserChanges(
            name=_kept(self.name),
            email=_kept(self.email),
            role=_kept(self.role),
            is_active=_kept(self.is_active),
        )


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.input
class ResetPasswordInput:
    token: str
    new_password: str


def _kept(value: T | None) -> T | Keep | None:
    return KEEP if value is strawberry.UNSET else value


@strawberry.type
class AccountsMutation:
    # register, login and reset_password open their savepoints after the password's
    # hash: see sessions.CheckedPassword.
    @strawberry.mutation(description="Create an account (role USER) and log in.")
    async def register(self, info: Info, input: RegisterInput) -> AuthPayload:
        ctx = info.context
        deps = ctx.account_deps()
        worth_it = await ctx.read_apart(
            lambda uow: accounts.registration_hashes(input.password, uow=uow, **deps)
        )
        password = await ctx.unless_client_leaves(
            NewPassword.hashed_if(input.password, worth_it)
        )
        async with ctx.uow.savepoint():
            tokens = await accounts.register(
                input.email, password, input.name, uow=ctx.uow, **deps
            )
        return AuthPayload.from_tokens(tokens)

    @strawberry.mutation(description="Exchange an email and password for tokens.")
    async def login(self, info: Info, input: LoginInput) -> AuthPayload:
        ctx = info.context
        deps = ctx.account_deps()
        stored_hash = await ctx.read_apart(
            lambda uow: sessions.hash_to_check(
                input.email, input.password, uow=uow, **deps
            )
        )
        password = await ctx.unless_client_leaves(
            sessions.CheckedPassword.against(stored_hash, input.password)
        )
        async with ctx.uow.savepoint():
            tokens = await sessions.login(input.email, password, uow=ctx.uow, **deps)
        return AuthPayload.from_tokens(tokens)

    @mutation(
        description="Rotate a refresh token; a reused one revokes its whole family."
    )
    async def refresh_token(self, info: Info, refresh_token: str) -> AuthPayload:
        ctx = info.context
        tokens = await sessions.rotate_refresh_token(
            refresh_token,
            uow=ctx.uow,
            clock=ctx.runtime.clock,
            policy=ctx.runtime.accounts,
        )
        return AuthPayload.from_tokens(tokens)

    @mutation(description="End the session of a refresh token and its access tokens.")
    async def logout(self, info: Info, refresh_token: str) -> bool:
        ctx = info.context
        return await sessions.logout(
            refresh_token, uow=ctx.uow, clock=ctx.runtime.clock
        )

    @mutation(description="Always true: it never reveals whether the email exists.")
    async def request_password_reset(self, info: Info, email: str) -> bool:
        ctx = info.context
        return await recovery.request_password_reset(
            email,
            uow=ctx.uow,
            clock=ctx.runtime.clock,
            policy=ctx.runtime.accounts,
            client=ctx.client_address,
        )

    @strawberry.mutation(description="Single use; ends every session of the user.")
    async def reset_password(self, info: Info, input: ResetPasswordInput) -> bool:
        ctx = info.context
        clock = ctx.runtime.clock
        worth_it = await ctx.read_apart(
            lambda uow: recovery.reset_hashes(
                input.token, input.new_password, uow=uow, clock=clock
            )
        )
        password = await ctx.unless_client_leaves(
            NewPassword.hashed_if(input.new_password, worth_it)
        )
        async with ctx.uow.savepoint():
            return await recovery.reset_password(
                input.token, password, uow=ctx.uow, clock=clock
            )

    @mutation(description="Ends every session of the user, this one included.")
    async def change_password(self, info: Info, input: ChangePasswordInput) -> bool:
        ctx = info.context
        return await accounts.change_password(
            input.current_password,
            input.new_password,
            uow=ctx.uow,
            actor=await ctx.require_actor(),
            clock=ctx.runtime.clock,
            policy=ctx.runtime.accounts,
        )

    @mutation(description="Send a new verification link to the caller's email.")
    async def request_email_verification(self, info: Info) -> bool:
        ctx = info.context
        return await recovery.request_email_verification(
            uow=ctx.uow,
            actor=await ctx.require_actor(),
            clock=ctx.runtime.clock,
            policy=ctx.runtime.accounts,
        )

    @mutation
    async def verify_email(self, info: Info, token: str) -> UserType:
        ctx = info.context
        user = await recovery.verify_email(token, uow=ctx.uow, clock=ctx.runtime.clock)
        return UserType.from_model(user)

    @mutation(description="Self or admin; role and isActive: admins only.")
    async def update_user(
        self, info: Info, id: strawberry.ID, input: UpdateUserInput
    ) -> UserType:
        ctx = info.context
        actor = await ctx.require_actor()
        user = await accounts.update_user(
            decode_id(id, "User"),
            input.to_changes(),
            uow=ctx.uow,
            actor=actor,
            clock=ctx.runtime.clock,
            policy=ctx.runtime.accounts,
        )
        return UserType.from_model(user)
