"""Which roles ``GET /messages/unread`` covers (§8.1, §18)."""

from __future__ import annotations

from postventa.config import UnreadDefaultRole
from postventa.model import Role


def roles_for(role: str | None, *, default: UnreadDefaultRole) -> tuple[Role, ...]:
    """``buyer`` or ``seller`` as asked; anything else falls back to the configured default.

    2024 pages say a missing or invalid role means ``seller``; the oldest page says "all cases".
    """
    if role in (Role.seller.value, Role.buyer.value):
        return (Role(role),)
    if default is UnreadDefaultRole.all:
        return (Role.seller, Role.buyer)
    return (Role.seller,)
