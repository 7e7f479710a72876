"""The ASGI application: routers, error envelope and middleware assembled in one place."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

import postventa
from postventa.api import action_guide, errors, feeds, health, legacy, messages, unread
from postventa.api.rawpath import RawPathMiddleware
from postventa.api.responses import OrjsonResponse
from postventa.config import Settings
from postventa.notifications.dispatcher import run_in_background
from postventa.operator import notifications as operator_notifications
from postventa.operator import routes as operator_routes
from postventa.rules.moderation import warm_up
from postventa.services import Services

DESCRIPTION = """\
Wire-compatible implementation of Mercado Libre's post-sale Messages API (`tag=post_sale`).
Paths, bodies, status codes and error strings follow the reference; where the public documentation
disagrees or is silent, `docs/compatibility.md` records the choice made.
"""


def create_app(services: Services | None = None) -> FastAPI:
    """Build the app; tests pass ready-made ``services``, servers build them from the env."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        if owned:
            app.state.services = Services.from_settings(Settings())
        settle_heap(app.state.services.clock.now())
        # A server process runs one notification dispatcher unless told not to (SKIP LOCKED
        # makes several safe); tests that pass their own services drive a Dispatcher themselves.
        async with run_in_background(app.state.services, enabled=owned):
            yield
        if owned:
            await app.state.services.db.dispose()

    app = FastAPI(
        title="Postventa",
        version=postventa.__version__,
        description=DESCRIPTION,
        default_response_class=OrjsonResponse,
        lifespan=lifespan,
        redirect_slashes=False,
    )
    if services is not None:
        app.state.services = services
    errors.install(app)
    # Order matters: /messages/unread, /messages/mark_as_read and the legacy one-segment paths
    # before /messages/{message_id}. Otherwise the hot routes come first: matching is linear,
    # and each route tried costs a few microseconds (docs/performance.md).
    routers = (
        health.router,
        unread.router,
        messages.router,
        legacy.router,
        messages.by_id_router,
        action_guide.router,
        feeds.router,
        operator_routes.router,
        operator_notifications.router,
    )
    for router in routers:
        app.include_router(router)
    app.state.api_routes = [route for router in routers for route in router.routes]
    settings = services.settings if services is not None else Settings()
    app.add_middleware(RawPathMiddleware, max_body_bytes=settings.max_body_bytes)
    _document_extra_models(app, messages.OPENAPI_EXTRA_MODELS)
    return app


def settle_heap(now: datetime) -> None:
    """Load what loads lazily, then freeze every object alive so far out of the GC's reach.

    A full (generation 2) collection walks every tracked object: with the start-up heap of
    modules, moderation tables and metadata (~190k objects) that stopped the event loop for
    ~75 ms, about every thousand E6 requests, and every request in flight waited (the p99 spikes
    of `unread` in docs/performance.md). Frozen objects are never collected, which is right for
    what lives as long as the process; what requests allocate is collected as before.
    """
    warm_up(now)
    gc.collect()
    gc.freeze()


def _document_extra_models(app: FastAPI, models: tuple[type[BaseModel], ...]) -> None:
    """Add schemas that responses reference by ``$ref`` but FastAPI cannot discover itself."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                model_schema = model.model_json_schema(
                    by_alias=True, ref_template="#/components/schemas/{model}"
                )
                components.update(model_schema.pop("$defs", {}))
                components[model.__name__] = model_schema
            _document_error_envelope(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_error_envelope(schema: dict[str, Any]) -> None:
    """Every operation can answer any 4xx/5xx in the Mercado Libre envelope.

    FastAPI documents its own 422 validation body, which Postventa never sends (validation
    errors are 400s in the envelope): those entries and their schemas go.
    """
    error = {
        "description": "Mercado Libre error envelope",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            validation = responses.get("422", {})
            if "HTTPValidationError" in str(validation):
                del responses["422"]
            responses.setdefault("4XX", error)
            responses.setdefault("5XX", error)
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
