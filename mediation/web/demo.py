"""The demo platform's webhook receiver and the demo mailbox (demo mode only).

The receiver verifies each signature and lists what arrived: it plays the marketplace's part so a newcomer
sees the whole loop (open a case, settle it in the room, watch `case.settled` and `case.resolved` arrive).
The mailbox lists the e-mails printed instead of sent (no SMTP host configured). Both lists are shared by every
process through Redis when it is configured (mediation/demo_store.py).
"""
from __future__ import annotations

import hmac
import json
import time

from flask import Blueprint, render_template, request
from sqlalchemy import select

from mediation.demo_store import DemoList
from mediation.extensions import csrf, db
from mediation.models import Platform, WebhookEndpoint
from mediation.services import mail, webhooks

bp = Blueprint("demo", __name__, url_prefix="/demo")
DEMO_PLATFORM = "Demo Marketplace"
_received = DemoList("webhooks")


def _secret() -> str | None:
    return db.session.scalar(select(WebhookEndpoint.secret).join(Platform).where(Platform.name == DEMO_PLATFORM))


def _verified(secret: str, body: bytes) -> bool:
    msg_id, stamp = request.headers.get("webhook-id", ""), request.headers.get("webhook-timestamp", "")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
        return False
    expected = webhooks.sign(secret, msg_id, int(stamp), body.decode("utf-8", "replace"))
    offered = request.headers.get("webhook-signature", "").split()
    return any(hmac.compare_digest(expected, sig) for sig in offered)


@bp.route("/webhooks", methods=["POST"])
@csrf.exempt
def receive():
    body = request.get_data()
    secret = _secret()
    ok = bool(secret) and _verified(secret, body)
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    _received.add({"id": request.headers.get("webhook-id"), "verified": ok, "type": (parsed or {}).get("type"),
                   "body": parsed, "at": time.time()})
    return ("", 204) if ok else ("invalid signature", 401)


@bp.route("/webhooks")
def inbox():
    return render_template("demo_webhooks.html", items=_received.items())


@bp.route("/mail")
def mailbox():
    return render_template("demo_mail.html", items=mail.console.received())
