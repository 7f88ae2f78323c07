"""Socket.IO for the case room, namespace /cases."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from mediation.extensions import socketio
    from mediation.realtime.handlers import CasesNamespace

    socketio.on_namespace(CasesNamespace("/cases"))
