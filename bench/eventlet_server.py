"""Serve a Flask-SocketIO app on eventlet's own WSGI server, the way Flask-SocketIO runs eventlet (gunicorn 27
no longer has an eventlet worker). For bench/room.py's gevent-versus-eventlet comparison only.

    python bench/eventlet_server.py wsgi|bench.bare_socketio PORT
"""
import eventlet

eventlet.monkey_patch()  # before anything else is imported, as eventlet requires

import importlib  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    module, port = sys.argv[1], int(sys.argv[2])
    app = importlib.import_module(module).app
    if module == "wsgi":
        from mediation.extensions import socketio as sio
    else:
        sio = importlib.import_module(module).sio
    sio.run(app, host="127.0.0.1", port=port, use_reloader=False, log_output=False)


if __name__ == "__main__":
    main()
