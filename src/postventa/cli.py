"""The ``postventa`` command: serve, worker, receive, migrate, demo."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
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
    dispatcher: Annotated[
        bool, typer.Option(help="Deliver notifications from each server process too.")
    ] = True,
) -> None:
    """Serve the API (uvicorn, uvloop, httptools), with a notification dispatcher per process."""
    settings = Settings()
    if migrate:
        upgrade(settings.database_url)
    if not dispatcher:
        # Read by Settings() in each server process (workers are child processes).
        os.environ["POSTVENTA_DISPATCHER_IN_SERVER"] = "false"
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
def worker(
    migrate: Annotated[bool, typer.Option(help="Apply migrations before starting.")] = False,
) -> None:
    """Deliver notifications until SIGINT/SIGTERM (run as many as you like: SKIP LOCKED)."""
    settings = Settings()
    if migrate:
        upgrade(settings.database_url)
    asyncio.run(_run_worker(settings))


async def _run_worker(settings: Settings) -> None:
    from postventa.notifications.dispatcher import Dispatcher

    services = Services.from_settings(settings)
    dispatcher = Dispatcher(services)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    typer.echo("postventa worker: delivering notifications", err=True)
    try:
        await dispatcher.run(stop)
    finally:
        await dispatcher.aclose()
        await services.db.dispose()


@app.command()
def receive(
    port: Annotated[int, typer.Option(help="TCP port.")] = 9000,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    secret: Annotated[
        str | None,
        typer.Option(help="The application's webhook secret (default: derived from settings)."),
    ] = None,
    status: Annotated[int, typer.Option(help="HTTP status to answer with.")] = 200,
) -> None:
    """A webhook receiver: prints each notification and verifies its X-Postventa-Signature."""
    from postventa.notifications.receiver import receiver_app

    master: str | None = None
    if secret is None:
        master = Settings().effective_webhook_master_secret()

    def out(line: str) -> None:
        typer.echo(line)

    # Bound before the banner: whoever waits for "listening on" can connect at once (the
    # connection waits in the backlog until uvicorn accepts it).
    sock = socket.create_server((host, port))
    typer.echo(f"listening on http://{host}:{port}/ (answering {status})", err=True)
    config = uvicorn.Config(
        receiver_app(out, secret=secret, master_secret=master, status=status),
        log_level="warning",
        access_log=False,
        server_header=False,
    )
    uvicorn.Server(config).run(sockets=[sock])


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
