"""A server freezes its start-up heap, so full collections do not stall requests."""

from __future__ import annotations

import gc

from postventa.api.app import create_app
from postventa.services import Services


async def test_startup_freezes_what_is_alive_so_full_collections_skip_it(
    services: Services,
) -> None:
    app = create_app(services)
    gc.unfreeze()
    try:
        async with app.router.lifespan_context(app):
            frozen = gc.get_freeze_count()
            assert frozen > 50_000
            # A full collection now walks only what was allocated since start-up.
            assert len(gc.get_objects(generation=2)) < frozen // 10
    finally:
        gc.unfreeze()
