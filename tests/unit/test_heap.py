"""A serving process takes the objects it loaded at start out of the garbage collector's walks (serving.freeze_heap):
a full collection walked some 230,000 of them, a pause every client of the process waited through."""
from __future__ import annotations

import gc
import runpy
from pathlib import Path

import pytest

from mediation import cli
from mediation.extensions import socketio

GUNICORN_CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


@pytest.fixture
def thawed():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_gunicorn_web_process_freezes_its_heap_once_the_app_is_loaded(thawed):
    hooks = runpy.run_path(str(GUNICORN_CONF))

    hooks["post_worker_init"](None)

    assert gc.get_freeze_count() > 0


def test_the_one_process_server_freezes_its_heap_before_it_serves(app, runner, thawed, monkeypatch):
    app.config["BACKGROUND_WORKERS"] = False
    frozen_when_serving: list[int] = []
    monkeypatch.setattr(socketio, "run", lambda *_args, **_kwargs: frozen_when_serving.append(gc.get_freeze_count()))

    result = runner.invoke(args=["mediation", "serve", "--port", "5999"])

    assert result.exit_code == 0, result.output
    assert frozen_when_serving and frozen_when_serving[0] > 0


def test_a_worker_freezes_its_heap_once_its_threads_run(app, runner, thawed, monkeypatch):
    monkeypatch.setattr(cli, "start_background_work", lambda _app, stop: stop.set() or [])
    monkeypatch.setattr(cli.signal, "signal", lambda *_args: None)  # the test process keeps its own handlers

    result = runner.invoke(args=["mediation", "worker"])

    assert result.exit_code == 0, result.output
    assert gc.get_freeze_count() > 0
