"""`qualiplan serve`: the production server (gunicorn) with app.wsgi."""

from __future__ import annotations

import os
from typing import Any

import click

from app.commands import CommandFailed
from curricula.messages import msg


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8000, show_default=True, envvar="PORT", type=click.IntRange(1, 65535)
)
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes; about two per processor core.",
)
@click.option("--timeout", default=60, show_default=True, type=click.IntRange(5, 3600))
def serve(host: str, port: int, workers: int, timeout: int) -> None:
    """Run Qualiplan for production use behind a reverse proxy.

    Needs SECRET_KEY (the same on every machine) and, for more than one
    machine, DATABASE_URL pointing at PostgreSQL. Run `qualiplan db upgrade`
    first after every update.
    """
    if not os.environ.get("SECRET_KEY"):
        raise CommandFailed(
            msg("SECRET_KEY is not set; production needs the same secret key in every process")
        )
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "timeout": timeout,
                "accesslog": "-",
                # Request lines go through the same filter as the app's log,
                # so secret links and certificate codes are hidden.
                "logger_class": "app.gunicorn_logging.HidingLogger",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from app.wsgi import app

            return app

    Server().run()
