"""No request waits for a thread: every endpoint and dependency is a coroutine.

FastAPI runs a plain ``def`` endpoint or dependency in its thread pool, a thread hop per request
that cost the hot routes a fifth of their CPU when ``get_services`` was one (docs/performance.md).
"""

from __future__ import annotations

import inspect
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from postventa.api.app import create_app


def _calls(dependant: Dependant) -> list[Any]:
    found = [dependant.call] if dependant.call is not None else []
    for sub in dependant.dependencies:
        found += _calls(sub)
    return found


def _is_coroutine(call: Any) -> bool:
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(
        getattr(call, "__call__", None)  # noqa: B004 (security schemes are callable objects)
    )


def test_every_endpoint_and_dependency_is_async() -> None:
    app = create_app()
    routes = [route for route in app.state.api_routes if isinstance(route, APIRoute)]
    assert len(routes) > 20
    blocking = [
        f"{route.path}: {getattr(call, '__qualname__', call)}"
        for route in routes
        for call in _calls(route.dependant)
        if not _is_coroutine(call)
    ]
    assert blocking == []
