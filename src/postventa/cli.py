"""The ``postventa`` command: serve, migrate, demo."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import orjson
import typer
import uvicorn

from postventa.config import Settings
from postventa.demo import data as demo_data
from postventa.services import Services
from postventa.storage.migrate import upgrade

app = typer.Typer(
    help="Postventa: a self-hosted, wire-compatible post-sale messaging service.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    migrate: Annotated[bool, typer.Option(help="Apply migrations before serving.")] = True,
) -> None:
    """Serve the API (uvicorn, uvloop, httptools)."""
    settings = Settings()
    if migrate:
        upgrade(settings.database_url)
    uvicorn.run(
        "postventa.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        proxy_headers=False,
        server_header=False,
        access_log=False,
    )


@app.command()
def migrate() -> None:
    """Bring the configured database (POSTVENTA_DATABASE_URL) to the latest schema."""
    upgrade(Settings().database_url)
    typer.echo("database is at the latest revision")


@app.command()
def demo(
    json: Annotated[bool, typer.Option("--json", help="Print the demo contract as JSON.")] = False,
) -> None:
    """Load the demo data if absent (idempotent) and describe it."""
    settings = Settings()
    upgrade(settings.database_url)
    loaded, described = asyncio.run(_load_demo(settings))
    if json:
        typer.echo(orjson.dumps(described, option=orjson.OPT_INDENT_2).decode())
        return
    typer.echo("demo data loaded" if loaded else "demo data already present")
    for key, user in described["users"].items():
        typer.echo(f"  {key:9} {user['id']:>10}  {user['nickname']:18} {user['access_token']}")


async def _load_demo(settings: Settings) -> tuple[bool, dict[str, Any]]:
    services = Services.from_settings(settings)
    try:
        loaded = await demo_data.load(services)
        return loaded, await demo_data.describe(services)
    finally:
        await services.db.dispose()


def main() -> None:
    app()
