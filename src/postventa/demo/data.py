"""Loading the demo data set and describing it as the ``postventa demo --json`` contract."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from postventa.demo import texts
from postventa.ids import new_message_id
from postventa.model import Role
from postventa.notifications.signing import application_secret
from postventa.rules import action_guide as guide_rules
from postventa.rules.moderation import moderate
from postventa.services import Services
from postventa.storage import action_guide as guide_store
from postventa.storage import messages as message_store
from postventa.storage.tables import (
    applications,
    conversations,
    messages,
    orders,
    users,
)
from postventa.storage.tokens import insert_token
from postventa.storage.unread import rebuild_counters

SITE_ID = "MLA"
APP_ID = 5503910054141466
# Where the demo application's notifications go: `postventa receive --port 9000` (README).
CALLBACK_URL = "http://127.0.0.1:9000/notifications"
# Message ids and tokens derive from this fixed instant, so they are the same everywhere.
# Timestamps are laid out relative to the moment of loading instead, so that time-based rules
# (30 days without messages closes the seller's window) do not block the demo a month later.
EPOCH = datetime(2026, 10, 20, 13, 0, tzinfo=UTC)
SPAN = timedelta(days=7)
# Demo tokens never expire on their own: the sandbox clock may be moved far ahead.
TOKEN_EXPIRY = datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)


@dataclass(frozen=True)
class DemoUser:
    key: str
    id: int
    nickname: str

    @property
    def access_token(self) -> str:
        secret = hashlib.sha256(f"postventa-demo-token:{self.key}".encode()).hexdigest()[:32]
        return f"APP_USR-{APP_ID}-102013-{secret}-{self.id}"


SELLER = DemoUser("seller", 415458330, "TIENDA_AURORA")
BUYER = DemoUser("buyer", 618491100, "MARTINA_COMPRAS")
BUYER2 = DemoUser("buyer2", 700112233, "JOAO_PAULO_BR")
STRANGER = DemoUser("stranger", 812345678, "CURIOSO_SIN_PACK")
USERS = (SELLER, BUYER, BUYER2, STRANGER)


@dataclass(frozen=True)
class DemoPack:
    pack_id: int  # the addressing id: the order id when the order has no pack
    buyer: DemoUser
    order_ids: tuple[int, ...]
    script: list[tuple[str, str]]
    unread_seller: int  # the last N messages to the seller stay unread
    unread_buyer: int
    is_order: bool = False
    started: timedelta = timedelta(0)
    # Order-side facts (rules.blocking.OrderFacts) for packs that demonstrate a blocked state.
    order_facts: dict[str, Any] | None = None
    # The state stored with the conversation when it is not blocked_by_cancelled_order.
    substatus: str | None = None
    # The seller opened the conversation through this action-guide option (E10).
    action_guide_option: str | None = None


PACKS = (
    DemoPack(2000000089077943, BUYER, (2000004000000001, 2000004000000002), texts.SOFA, 3, 0),
    DemoPack(
        2000000089077950, BUYER, (2000004000000011,), texts.CABLE, 0, 3, started=timedelta(days=1)
    ),
    DemoPack(
        2000000089077961, BUYER2, (2000004000000021,), texts.TENIS, 1, 1, started=timedelta(days=2)
    ),
    DemoPack(
        2000000089077977,
        BUYER2,
        (2000004000000031,),
        texts.LAMPARA,
        0,
        0,
        started=timedelta(days=3),
    ),
    DemoPack(
        2000004567812345,
        BUYER,
        (2000004567812345,),
        texts.MATE,
        1,
        0,
        is_order=True,
        started=timedelta(days=4),
    ),
    DemoPack(2000000089077988, BUYER, (2000004000000041,), [], 0, 0, started=timedelta(days=5)),
    # Cancelled after a short exchange: blocked_by_cancelled_order, messages still shown.
    DemoPack(
        2000000089077999,
        BUYER2,
        (2000004000000051,),
        texts.CANCELADO,
        0,
        0,
        started=timedelta(days=5, hours=12),
        order_facts={"cancellation": "normal"},
    ),
    # The seller tried to move the buyer to a phone call: moderated, hidden from the buyer.
    DemoPack(
        2000000089078005,
        BUYER2,
        (2000004000000071,),
        texts.MODERADO,
        0,
        1,
        started=timedelta(days=6, hours=6),
    ),
    # Action guide: an ME2 cross-docking sale where the seller asked for the variants through
    # REQUEST_VARIANTS (cap spent) and the buyer read it but has not answered: plain sends stay
    # closed to the seller (blocked_by_conversation_initiated_by_seller_limited).
    DemoPack(
        2000000089078004,
        BUYER,
        (2000004000000061,),
        [("seller", guide_rules.VARIANTS_TEXT[SITE_ID])],
        0,
        0,  # read by the buyer, who has not answered yet
        started=timedelta(days=6),
        order_facts={"logistic_type": "cross_docking"},
        substatus="blocked_by_conversation_initiated_by_seller_limited",
        action_guide_option=guide_rules.REQUEST_VARIANTS,
    ),
)


async def is_loaded(conn: AsyncConnection) -> bool:
    found = await conn.execute(select(users.c.id).where(users.c.id == SELLER.id))
    return found.first() is not None


async def load(services: Services) -> bool:
    """Insert the demo data unless it is already there. Returns whether it inserted anything."""
    origin = services.clock.now() - SPAN
    async with services.db.write() as conn:
        if await is_loaded(conn):
            return False
        await conn.execute(
            insert(users),
            [
                {"id": u.id, "nickname": u.nickname, "site_id": SITE_ID, "created_at": origin}
                for u in USERS
            ],
        )
        await conn.execute(
            insert(applications).values(
                id=APP_ID,
                owner_user_id=SELLER.id,
                name="Postventa demo",
                created_at=origin,
                callback_url=CALLBACK_URL,
                topics=["messages"],
            )
        )
        for user in USERS:
            await insert_token(
                conn,
                token=user.access_token,
                user_id=user.id,
                application_id=APP_ID,
                created_at=origin,
                expires_at=TOKEN_EXPIRY,
            )
        for pack in PACKS:
            await _load_pack(conn, pack, origin)
        await rebuild_counters(conn, seller_id=SELLER.id)
    return True


async def _load_pack(conn: AsyncConnection, pack: DemoPack, origin: datetime) -> None:
    start = origin + pack.started

    def last_of(role: str) -> datetime | None:
        indexes = [i for i, (r, _) in enumerate(pack.script) if r == role]
        return start + timedelta(minutes=17 * (indexes[-1] + 1)) if indexes else None

    last_at = start + timedelta(minutes=17 * len(pack.script)) if pack.script else None
    last_buyer_at, last_seller_at = last_of("buyer"), last_of("seller")
    await conn.execute(
        insert(conversations).values(
            seller_id=SELLER.id,
            pack_id=pack.pack_id,
            buyer_id=pack.buyer.id,
            site_id=SITE_ID,
            is_order=pack.is_order,
            status="blocked" if pack.order_facts else "active",
            substatus=pack.substatus
            or ("blocked_by_cancelled_order" if pack.order_facts else None),
            status_date=last_at or start,
            message_count=len(pack.script),
            last_message_at=last_at,
            last_buyer_message_at=last_buyer_at,
            last_seller_message_at=last_seller_at,
            opened_by="action_guide"
            if pack.action_guide_option
            else (pack.script[0][0] if pack.script else None),
            created_at=start,
        )
    )
    await conn.execute(
        insert(orders),
        [
            {
                "id": order_id,
                "seller_id": SELLER.id,
                "pack_id": None if pack.is_order else pack.pack_id,
                "buyer_id": pack.buyer.id,
                "site_id": SITE_ID,
                "status": "paid",
                "date_created": start,
                "conversation_pack_id": pack.pack_id,
                "facts": pack.order_facts,
            }
            for order_id in pack.order_ids
        ],
    )
    unread_left = {"seller": pack.unread_seller, "buyer": pack.unread_buyer}
    hidden = {"seller": 0, "buyer": 0}
    rows: list[dict[str, Any]] = []
    for index, (role, text) in reversed(list(enumerate(pack.script))):
        at = start + timedelta(minutes=17 * (index + 1))
        id_at = EPOCH + pack.started + timedelta(minutes=17 * (index + 1))
        receiver = "buyer" if role == "seller" else "seller"
        verdict = moderate(text, site_id=SITE_ID, sender_role=Role(role), now=at)
        hidden[receiver] += int(verdict.rejected)
        unread = unread_left[receiver] > 0 and not verdict.rejected
        unread_left[receiver] -= int(unread)
        sender_id = SELLER.id if role == "seller" else pack.buyer.id
        receiver_id = pack.buyer.id if role == "seller" else SELLER.id
        rows.append(
            {
                "id": new_message_id(id_at, seed=f"demo:{pack.pack_id}:{index}".encode()),
                "seller_id": SELLER.id,
                "pack_id": pack.pack_id,
                "from_user_id": sender_id,
                "to_user_id": receiver_id,
                "client_id": APP_ID,
                "site_id": SITE_ID,
                "subject": None,
                "text": text,
                "status": verdict.status,
                "moderation_status": verdict.moderation_status,
                "moderation_reason": verdict.reason,
                "moderation_source": verdict.source,
                "moderation_date": at,
                "created_at": at,
                "available_at": None if verdict.rejected else at,
                "notified_at": None if verdict.rejected else at,
                "read_at": None if unread or verdict.rejected else at + timedelta(minutes=5),
                "attachments": None,
                "first_message": index == 0,
            }
        )
    if rows:
        await conn.execute(insert(messages), rows)
    if any(hidden.values()):
        await conn.execute(
            update(conversations)
            .where(conversations.c.seller_id == SELLER.id, conversations.c.pack_id == pack.pack_id)
            .values(seller_hidden=hidden["seller"], buyer_hidden=hidden["buyer"])
        )
    if pack.action_guide_option:
        first = rows[-1]  # rows are newest first
        await guide_store.record_use(
            conn,
            seller_id=SELLER.id,
            pack_id=pack.pack_id,
            option_id=pack.action_guide_option,
            message_id=first["id"],
            at=first["created_at"],
        )


async def describe(services: Services) -> dict[str, Any]:
    """The public contract: fixed ids and tokens, plus each pack's current state."""
    packs: list[dict[str, Any]] = []
    async with services.db.read() as conn:
        for pack in PACKS:
            row = (
                await conn.execute(
                    select(conversations.c.seller_unread, conversations.c.buyer_unread).where(
                        conversations.c.seller_id == SELLER.id,
                        conversations.c.pack_id == pack.pack_id,
                    )
                )
            ).one()
            ids = await message_store.conversation_message_ids(
                conn, seller_id=SELLER.id, pack_id=pack.pack_id
            )
            packs.append(
                {
                    "pack_id": pack.pack_id,
                    "seller_id": SELLER.id,
                    "buyer_id": pack.buyer.id,
                    "order_ids": list(pack.order_ids),
                    "message_ids": ids,
                    "unread": {"seller": row.seller_unread, "buyer": row.buyer_unread},
                    "is_order": pack.is_order,
                    "resource": f"/packs/{pack.pack_id}/sellers/{SELLER.id}",
                }
            )
    return {
        "site_id": SITE_ID,
        "application_id": APP_ID,
        "users": {
            u.key: {"id": u.id, "nickname": u.nickname, "access_token": u.access_token}
            for u in USERS
        },
        "packs": packs,
        "notifications": {
            "callback_url": CALLBACK_URL,
            "topics": ["messages"],
            "webhook_secret": application_secret(
                services.settings.effective_webhook_master_secret(), APP_ID
            ),
        },
    }
