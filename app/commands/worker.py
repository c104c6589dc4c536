"""`qualiplan worker`: runs queued and periodic work (app.queue)."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from app import delivery, queue
from app.commands import language_option, translator
from app.schema import utcnow


@click.command()
@click.option(
    "--threads",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Tasks run at the same time.",
)
@click.option("--once", is_flag=True, help="Run what is due now, then stop.")
@click.option("--verbose", is_flag=True, help="Log every task the worker runs.")
@language_option
@with_appcontext
def worker(threads: int, once: bool, verbose: bool, lang: str | None) -> None:
    """Deliver notifications and run long jobs and periodic work.

    Start one or more on any machine that reaches the database and the queue
    (QUALIPLAN_QUEUE_URL; with PostgreSQL as the database, the queue lives
    there by default). Periodic work runs once per minute across all workers.
    """
    if once:
        ran = queue.run_pending()
        tried = delivery.sweep_now(utcnow())
        click.echo(
            translator(lang).gettext(
                "%(tasks)d queued tasks run, %(messages)d notifications tried.",
                tasks=ran,
                messages=tried,
            )
        )
        return
    # Quiet by default (the sweep runs every minute); failures are always logged.
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
    )
    click.echo(
        translator(lang).ngettext(
            "The worker runs %(num)d task at a time; Ctrl+C stops it.",
            "The worker runs %(num)d tasks at a time; Ctrl+C stops it.",
            threads,
        )
    )
    if not current_app.config.get("PUBLIC_URL"):
        # Outside a request no host is known: links would hold only a path.
        click.echo(
            translator(lang).gettext(
                "QUALIPLAN_PUBLIC_URL is not set: links in the e-mails this worker sends "
                "hold only a path. Set it to the address people open Qualiplan at."
            ),
            err=True,
        )
    consumer = queue.huey.create_consumer(workers=threads, worker_type="thread", periodic=True)
    consumer.run()
