"""How this process serves: which concurrency Socket.IO should use, decided from what the server set up.

`flask mediation serve` runs Werkzeug's threaded server, so Socket.IO uses threads. gunicorn's gevent and
eventlet workers patch the standard library before they load the app (see gunicorn.conf.py); the app then
has to use the same library, or every socket would block the whole process.
"""
from __future__ import annotations

import sys


def async_mode() -> str:
    """"gevent" or "eventlet" when that library has patched this process's sockets, else "threading"."""
    if "gevent" in sys.modules:
        from gevent import monkey

        if monkey.is_module_patched("socket"):
            return "gevent"
    if "eventlet" in sys.modules:
        from eventlet import patcher

        if patcher.is_monkey_patched("socket"):
            return "eventlet"
    return "threading"
