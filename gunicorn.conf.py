"""gunicorn settings for the web processes of a deployment of several processes (`make run-cluster`).

    gunicorn -c gunicorn.conf.py            # serves wsgi:app on MEDIATION_HOST:MEDIATION_PORT

Each web process is one gevent worker: one OS process serving thousands of connections as greenlets (psycopg 3
and redis-py cooperate with gevent). Background work (webhooks, e-mail, the scheduler) is not done here but by
`flask mediation worker`. Several web processes need MEDIATION_REDIS_URL, the Socket.IO message queue between
them. The case room's client uses the WebSocket transport only, so a connection lives in one process from start
to end and no sticky sessions are needed.
"""
import os

wsgi_app = "wsgi:app"
bind = [f"{os.environ.get('MEDIATION_HOST', '127.0.0.1')}:{os.environ.get('MEDIATION_PORT', '5000')}"]
# gevent was measured against eventlet (bench/room.py --servers); eventlet stays selectable for comparison.
worker_class = os.environ.get("MEDIATION_WORKER_CLASS", "gevent")
workers = int(os.environ.get("MEDIATION_WEB_PROCESSES", "1"))
worker_connections = int(os.environ.get("MEDIATION_WORKER_CONNECTIONS", "2000"))
# A long-lived WebSocket is fine under the async workers: the timeout only catches a worker that stopped
# answering the arbiter's heartbeat (a blocked event loop).
timeout = 30
graceful_timeout = 10
# The app logs through Flask; an access log line per request is left to the proxy in front.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("MEDIATION_LOG_LEVEL", "info")
proc_name = "mediation-web"
# Several instances may run on one host (one per port); gunicornc's shared control socket would collide.
control_socket_disable = True


def post_worker_init(worker):
    """The app is loaded in this web process: its long-lived objects leave the garbage collector's walks."""
    from mediation import serving

    serving.freeze_heap()
