"""What an e-mail from the mail outbox says, in its recipient's language and time zone.

Each kind has one template, `templates/mail/<kind>.txt`, that writes the body as plain text; the shared
layouts `mail/layout.txt` and `mail/layout.html` wrap it (greeting, the link into the case, the footer), the
HTML one paragraph by paragraph, escaped, so both parts always say the same. Rendering happens at send time:
a join link is minted then (it is never stored), and a digest lists what is still unread then.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_date
from email.utils import formataddr
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from babel.numbers import format_currency
from flask import current_app, render_template
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from mediation import clock
from mediation.config import public_base_url
from mediation.extensions import db
from mediation.models import Case, Notification, Party, User
from mediation.money import Money
from mediation.services import access
from mediation.services.notifications import DIGEST, DIGEST_EVERY, last_digest_sent, unread_messages

SUBJECTS = {
    "case.opened": _l("[%(reference)s] A dispute was opened about your order"),
    "proposal.created": _l("[%(reference)s] A settlement proposal waits for your answer"),
    "case.escalated": _l("[%(reference)s] Your case went to mediation"),
    "mediator.assigned": _l("[%(reference)s] A mediator was assigned"),
    "deadline.reminder": _l("[%(reference)s] A deadline is less than a day away"),
    "ruling.issued": _l("[%(reference)s] The mediator issued a ruling"),
    "appeal.decided": _l("[%(reference)s] The appeal was decided"),
    "case.resolved": _l("[%(reference)s] The outcome of your case"),
    DIGEST: _l("[%(reference)s] New messages in your case"),
}
# The mediator assigned reads about their new task, not about "a mediator".
STAFF_SUBJECTS = {"mediator.assigned": _l("[%(reference)s] A case was assigned to you")}
# How many unread messages a digest quotes; it says how many more there are.
DIGEST_QUOTES = 20


@dataclass(frozen=True)
class Recipient:
    key: str
    name: str
    email: str | None
    locale: str
    zone: str
    role: str  # buyer, seller, mediator, admin
    party: Party | None = None


@dataclass
class Draft:
    """A rendered e-mail, or why there is none: `message` is None when nothing is to be sent (`reason`)."""

    message: EmailMessage | None
    reason: str | None = None
    # What to keep on the row once sent (a digest remembers the last message it quoted).
    payload: dict = field(default_factory=dict)
    # Not yet: a digest that would come sooner than 15 minutes after the last one waits until then.
    postpone_until: datetime | None = None


def recipient_of(key: str) -> Recipient | None:
    kind, _sep, ident = key.partition(":")
    if kind == "party":
        party = db.session.get(Party, int(ident))
        return party and Recipient(key, party.name, party.email, party.locale, party.timezone, party.role, party)
    user = db.session.get(User, int(ident)) if kind == "user" else None
    return user and Recipient(key, user.name, user.email, user.locale, user.timezone, user.role)


def compose(notification: Notification) -> Draft:
    """Render the row's e-mail for its recipient as it stands now (text and HTML alternatives)."""
    recipient = recipient_of(notification.recipient)
    if recipient is None or not recipient.email:
        return Draft(None, "no e-mail address")
    case = db.session.get(Case, notification.case_id)
    context = {"case": case, "reference": case.reference, "recipient": recipient, "payload": notification.payload}
    payload = dict(notification.payload)
    if notification.kind == DIGEST:
        hold = last_digest_sent(case.id, recipient.key) + DIGEST_EVERY
        if hold > clock.now():
            return Draft(None, postpone_until=hold)
        messages, more = unread_messages(case.id, recipient.party, DIGEST_QUOTES)
        if not messages:
            return Draft(None, "nothing unread")
        context.update(messages=messages, more=more)
        payload["last_message_id"] = messages[-1].id
    with force_locale(recipient.locale):
        context.update(_formatters(recipient), link=_link(case, recipient))
        subjects = SUBJECTS if recipient.party else {**SUBJECTS, **STAFF_SUBJECTS}
        subject = str(subjects[notification.kind]) % {"reference": case.reference}
        body = _tidy(render_template(f"mail/{notification.kind}.txt", **context))
        text = render_template("mail/layout.txt", body=body, **context)
        html = render_template("mail/layout.html", paragraphs=_paragraphs(body), subject=subject, **context)
    return Draft(_message(notification, recipient, subject, text, html), payload=payload)


def _message(notification: Notification, recipient: Recipient, subject: str, text: str, html: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = formataddr((recipient.name, recipient.email))
    message["Subject"] = subject
    message["Date"] = rfc2822_date(clock.now())
    # The same id on every try: a receiver that got a copy before can drop the duplicate.
    message["Message-ID"] = f"<notification-{notification.id}@{_host()}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies should not answer it
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    # After the parts are made: making them moves every Content-* header into the first part.
    message["Content-Language"] = "zh-Hans" if recipient.locale == "zh_Hans_CN" else recipient.locale
    return message


def public_url() -> str:
    return public_base_url(current_app.config)


def _host() -> str:
    return urlsplit(public_url()).hostname or "localhost"


@dataclass(frozen=True)
class Link:
    url: str
    expires_at: datetime | None  # a party's join link expires; a staff member signs in


def _link(case: Case, recipient: Recipient) -> Link:
    """Parties arrive by join link (minted now, for this e-mail only); staff sign in and open the case."""
    if recipient.party is None:
        return Link(f"{public_url()}/cases/{case.id}", None)
    expires_at = access.fresh_link_expiry()
    return Link(f"{public_url()}/join/{access.join_token(recipient.party, expires_at)}", expires_at)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _formatters(recipient: Recipient) -> dict:
    """Times in the recipient's zone (named), amounts as their locale writes them."""
    zone, locale = _zone(recipient.zone), recipient.locale

    def when(value: datetime | str | None) -> str:
        if value is None:
            return "—"
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return f"{format_datetime(moment, 'medium', tzinfo=zone, locale=locale)} ({zone.key})"

    def amount(value: Money | dict) -> str:
        money = value if isinstance(value, Money) else Money.parse(value["value"], value["currency"])
        return format_currency(money.decimal, money.currency, locale=locale)

    def settlement(refund: Money | dict, release: Money | dict) -> str:
        return gettext("Refund the buyer %(refund)s, release %(release)s to the seller.",
                       refund=amount(refund), release=amount(release))

    return {"when": when, "amount": amount, "settlement": settlement, "quote": quote}


def quote(text: str) -> str:
    """Someone's own words, marked as a quotation line by line (the HTML part shows a blockquote)."""
    return "\n".join(f"> {line}" for line in (text or "").splitlines())


def _tidy(body: str) -> str:
    """The templates' optional parts leave runs of blank lines: one blank line separates paragraphs."""
    return re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", body).strip()


def _paragraphs(body: str) -> list[Markup]:
    """The text body as HTML paragraphs, everything escaped; lines quoted with "> " become a blockquote."""
    rendered = []
    for block in body.split("\n\n"):
        lines = block.strip("\n").split("\n")
        plain = [escape(line) for line in lines if not line.startswith("> ")]
        quoted = [escape(line[2:]) for line in lines if line.startswith("> ")]
        html = Markup("<br>").join(plain)
        if quoted:
            html += Markup('<blockquote style="margin:4px 0 0 0;padding-left:10px;border-left:3px solid #ccc">'
                           "{}</blockquote>").format(Markup("<br>").join(quoted))
        rendered.append(html)
    return rendered
