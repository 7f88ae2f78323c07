"""`flask mediation cluster`: what it refuses, what it starts, and that it starts a dead worker again."""
from __future__ import annotations

import sys

import pytest

from mediation import cluster
from mediation.serving import async_mode


def test_several_processes_are_refused_on_sqlite():
    with pytest.raises(cluster.ClusterRefused, match="PostgreSQL"):
        cluster.check_configuration({"SQLALCHEMY_DATABASE_URI": "sqlite:///x.db", "REDIS_URL": "redis://h/0"})


def test_several_processes_are_refused_without_a_message_queue():
    with pytest.raises(cluster.ClusterRefused, match="Redis"):
        cluster.check_configuration({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://h/db", "REDIS_URL": None})


def test_the_cluster_command_says_why_it_refuses(runner):
    result = runner.invoke(args=["mediation", "cluster"])
    assert result.exit_code == 2
    assert "Several processes need" in result.output


def test_the_cluster_is_one_gunicorn_and_the_workers_asked_for():
    procs = cluster.children(3, 2, "127.0.0.1", 6100, env={"PATH": "/bin"})
    assert [c.name for c in procs] == ["web", "worker-1", "worker-2"]
    assert procs[0].argv[1:3] == ["-m", "gunicorn"]
    assert (procs[0].env["MEDIATION_WEB_PROCESSES"], procs[0].env["MEDIATION_PORT"]) == ("3", "6100")
    assert procs[1].argv[-2:] == ["mediation", "worker"]


def test_a_child_that_dies_is_started_again_and_all_stop_at_the_end(monkeypatch):
    monkeypatch.setattr(cluster, "RESTART_DELAY", 0.0)
    child = cluster.Child("short", [sys.executable, "-c", "pass"], env={})
    starts = []
    original_start = child.start

    def counting_start():
        starts.append(1)
        original_start()

    monkeypatch.setattr(child, "start", counting_start)
    said: list[str] = []
    cluster.supervise([child], said.append, stop_requested=lambda: len(starts) >= 3)
    assert len(starts) == 3
    assert any("exited with 0; starting it again" in line for line in said)
    assert said[-1] == "All processes stopped."


def test_the_threaded_server_uses_threads_for_socketio():
    assert async_mode() == "threading"
