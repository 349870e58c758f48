"""Per-request DataLoaders: every edge between objects is fetched in batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from domain.models import User
from persistence import accounts
from persistence.uow import SqlUnitOfWork


@dataclass
class Loaders:
    uow: SqlUnitOfWork
    user: DataLoader[int, User | None] = field(init=False)

    def __post_init__(self) -> None:
        self.user = DataLoader(load_fn=self._users)

    async def _users(self, ids: Sequence[int]) -> list[User | None]:
        return await accounts.users_by_ids(self.uow, ids)
