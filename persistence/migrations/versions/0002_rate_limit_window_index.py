"""index rate limit counters by window start, for pruning

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 08:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_rate_limit_counters_window_start"),
        "rate_limit_counters",
        ["window_start"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_rate_limit_counters_window_start"), table_name="rate_limit_counters"
    )
