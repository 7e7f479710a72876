"""Every failure leaves as a Mercado Libre error envelope, never as FastAPI's default bodies."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from postventa.api.responses import OrjsonResponse
from postventa.errors import Code, PostventaError
from postventa.storage.db import DatabaseUnavailable

logger = logging.getLogger("postventa.api")


class BodyTooLarge(Exception):
    """Raised while a request body is read past ``max_body_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"body over {max_bytes} bytes")
        self.max_bytes = max_bytes


def error_response(error: PostventaError) -> Response:
    return OrjsonResponse(error.body(), status_code=error.status)


async def _postventa_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PostventaError)
    return error_response(exc)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    location = first.get("loc", ("query", "?"))
    where = str(location[0]) if location else "query"
    name = str(location[-1]) if len(location) > 1 else "?"
    return error_response(PostventaError(Code.INVALID_PARAM, location=where, name=name))


def _allowed_methods(request: Request) -> str:
    """Every method some route serves on this path (Starlette only names the first match's)."""
    methods: set[str] = set()
    for route in request.app.state.api_routes:
        match, _ = route.matches({**request.scope, "method": "\0"})
        if match is not Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return error_response(PostventaError(Code.ROUTE_NOT_FOUND))
    if exc.status_code == 405:
        response = error_response(PostventaError(Code.METHOD_NOT_ALLOWED))
        response.headers["Allow"] = _allowed_methods(request)
        return response
    body = {
        "message": str(exc.detail),
        "error": "bad_request",
        "status": exc.status_code,
        "cause": [],
    }
    return OrjsonResponse(body, status_code=exc.status_code)


async def _body_too_large(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BodyTooLarge)
    return error_response(PostventaError(Code.BODY_TOO_LARGE, max_bytes=exc.max_bytes))


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    logger.error("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return error_response(PostventaError(Code.SERVICE_UNAVAILABLE))


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(PostventaError(Code.INTERNAL))


def install(app: FastAPI) -> None:
    app.add_exception_handler(PostventaError, _postventa_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(BodyTooLarge, _body_too_large)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(DatabaseUnavailable, _database_unavailable)
    app.add_exception_handler(DBAPIError, _unexpected)
    app.add_exception_handler(Exception, _unexpected)
