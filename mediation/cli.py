"""`flask --app wsgi mediation …`: demo data, platforms, users, workers, chain checks, the server."""
from __future__ import annotations

import json
import os
import signal
import sys
import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from mediation import cluster, serving
from mediation.backup_cli import backup_command, restore_command
from mediation.documents_cli import verify_document
from mediation.extensions import socketio
from mediation.services import admin, chain, deadlines, mail, webhooks

group = AppGroup("mediation", help="Operate Mediation.")
group.add_command(verify_document)
group.add_command(backup_command)
group.add_command(restore_command)


def init_app(app: Flask) -> None:
    app.cli.add_command(group)


@group.command("create-platform")
@click.argument("name")
@click.option("--webhook-url", help="Where to deliver webhooks.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (id, api_key, webhook_secret).")
def create_platform(name: str, webhook_url: str | None, as_json: bool) -> None:
    """Register a marketplace; print its API key (shown only now) and webhook secret."""
    created = admin.create_platform(name, webhook_url)
    if as_json:
        click.echo(json.dumps({"id": created.platform_id, "name": name, "api_key": created.api_key,
                               "webhook_secret": created.webhook_secret}))
        return
    click.echo(f"Platform {name} (id {created.platform_id})")
    click.echo(f"  API key:        {created.api_key}   (shown once; store it now)")
    if created.webhook_secret:
        click.echo(f"  Webhook secret: {created.webhook_secret}")


@group.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["mediator", "admin"]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--locale", default="en", type=click.Choice(["en", "zh_Hans_CN"]))
@click.option("--timezone", default="UTC")
def create_user(email: str, name: str, role: str, password: str, locale: str, timezone: str) -> None:
    """Add a mediator or an admin."""
    user_id = admin.create_user(email=email, name=name, role=role, password=password, locale=locale,
                                timezone=timezone)
    click.echo(f"{role} {email} (id {user_id})")


@group.command("demo")
def demo() -> None:
    """Load demo data (once) and print the logins, join links and API key."""
    from mediation.demo import load_demo

    for line in load_demo():
        click.echo(line)


@group.command("deliver-webhooks")
@click.option("--once", is_flag=True, help="One pass over what is due, then exit.")
def deliver_webhooks(once: bool) -> None:
    """Deliver the webhook outbox (a worker; run as many as you like on PostgreSQL)."""
    if once:
        click.echo(f"{webhooks.deliver_due()} attempted")
        return
    stop = threading.Event()
    try:
        webhooks.run_forever(current_app._get_current_object(), stop)
    except KeyboardInterrupt:
        stop.set()


@group.command("send-mail")
def send_mail() -> None:
    """One pass over the mail outbox: send what is due (retries included) and say how many went out."""
    if mail.transport_for(current_app.config) is None:
        click.echo("No SMTP host configured (MEDIATION_SMTP_HOST): the mail waits in the outbox.")
        return
    click.echo(f"{mail.deliver_due()} sent")


@group.command("tick")
def tick() -> None:
    """Move cases whose deadline passed, expire lapsed proposals, send 24 h reminders, retry mediator
    assignment (safe to run from several workers)."""
    report = deadlines.tick()
    click.echo(f"{len(report.escalated)} case(s) sent to mediation, {len(report.finalized)} ruling(s) made final, "
               f"{len(report.expired_proposals)} proposal(s) expired, {len(report.reminded)} reminder(s) sent, "
               f"{len(report.assigned)} case(s) given a mediator.")


@group.command("verify")
@click.argument("case_id", type=int, required=False)
def verify(case_id: int | None) -> None:
    """Check the hash chain of one case, or of every case; name the first broken link."""
    reports = [chain.verify_case(case_id)] if case_id else chain.verify_all()
    broken = [r for r in reports if not r.ok]
    for report in broken:
        click.echo(f"case {report.case_id}: BROKEN at event {report.broken_seq}: {report.problem}")
    click.echo(f"{len(reports) - len(broken)} of {len(reports)} case chains verify.")
    if broken:
        sys.exit(1)


@group.command("serve")
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
def serve(host: str | None, port: int | None) -> None:
    """HTTP and Socket.IO in one process, with the webhook deliverer, the mail worker and the scheduler in
    background threads."""
    app = current_app._get_current_object()
    host = host or app.config["HOST"]
    port = port or app.config["PORT"]
    if app.config["BACKGROUND_WORKERS"]:
        start_background_work(app, threading.Event())
    click.echo(f"Serving on http://{host}:{port}/")
    os.environ.pop("FLASK_RUN_FROM_CLI", None)  # this command *is* the server; let app.run serve
    serving.freeze_heap()
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False)



@group.command("create-database")
def create_database() -> None:
    """Create the configured PostgreSQL database if it does not exist (then run `flask db upgrade`)."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if cluster.ensure_database(url):
        click.echo("Database created.")
    else:
        click.echo("Nothing to create: the database exists (or is SQLite, made on first use).")


@group.command("cluster")
@click.option("--web", "web_processes", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Web processes (gunicorn, gevent), all on one port.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Background workers: webhooks, e-mail, scheduler.")
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
def cluster_command(web_processes: int, workers: int, host: str | None, port: int | None) -> None:
    """Several web processes and workers on PostgreSQL and Redis, supervised until SIGTERM or Ctrl-C."""
    app = current_app._get_current_object()
    try:
        cluster.check_configuration(app.config)
    except cluster.ClusterRefused as refused:
        raise click.UsageError(str(refused)) from None
    host = host or app.config["HOST"]
    port = port or app.config["PORT"]
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_args: stopping.set())
    signal.signal(signal.SIGINT, lambda *_args: stopping.set())
    click.echo(f"Serving on http://{host}:{port}/ with {web_processes} web process(es) and {workers} worker(s).")
    cluster.supervise(cluster.children(web_processes, workers, host, port), click.echo, stopping.is_set)


@group.command("worker")
def worker() -> None:
    """Background work without the web part: webhook delivery, e-mail and the scheduler's ticks, for a
    deployment of several processes (run one or more beside the web processes; on PostgreSQL they share the
    work row by row). With REDIS_URL, what they tell the case rooms goes through the message queue. Stops
    cleanly on SIGTERM or Ctrl-C: a delivery cut short is sent again later, never lost."""
    app = current_app._get_current_object()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_args: stop.set())
    threads = start_background_work(app, stop)
    serving.freeze_heap()
    click.echo("Worker running: webhook delivery, e-mail, scheduler.")
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        stop.set()
    webhooks.wake.set()  # end their idle waits now
    mail.wake.set()
    for thread in threads:
        thread.join(30)
    click.echo("Worker stopped.")


def start_background_work(app, stop: threading.Event) -> list[threading.Thread]:
    """The webhook deliverer, the mail worker and the scheduler as daemon threads until `stop` is set."""
    threads = [threading.Thread(target=webhooks.run_forever, args=(app, stop), daemon=True, name="webhook-deliverer"),
               threading.Thread(target=mail.run_forever, args=(app, stop), daemon=True, name="mail-worker"),
               threading.Thread(target=_tick_forever, args=(app, stop), daemon=True, name="scheduler")]
    for thread in threads:
        thread.start()
    return threads


def _tick_forever(app, stop: threading.Event, every_seconds: float = 30.0) -> None:
    """The scheduler; `flask mediation tick` (from cron) does the same once. Safe in several processes."""
    while not stop.wait(every_seconds):
        try:
            with app.app_context():
                deadlines.tick()
        except Exception:
            app.logger.exception("scheduler tick failed")
