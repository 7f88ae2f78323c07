"""What a participant needs to open a case room: the case, its proposals, rulings and appeals, recent
messages, and what the participant may do now. The page loads it; a socket `join` acks it again, so a
client that saw the case change asks here for its new actions instead of guessing them."""
from __future__ import annotations

from dataclasses import dataclass

from mediation.models import CHANNELS, Appeal, Case, Message, Proposal, Ruling
from mediation.services import messages, policy, proposals, rulings, workflow
from mediation.services.actors import Actor
from mediation.services.cases import load
from mediation.services.policy import Action


@dataclass
class Room:
    case: Case
    channels: tuple[str, ...]
    messages: list[Message]
    has_older: bool
    proposals: list[Proposal]
    rulings: list[Ruling]
    appeals: list[Appeal]
    allowed_actions: list[str]
    upload_channels: tuple[str, ...] = ()  # where the participant may add files, while each channel is open
    may_request: bool = False  # may ask a party for evidence, while the case is undecided
    embed_origins: tuple[str, ...] = ()  # where the case's platform may show this room in a frame


def open_room(actor: Actor, case_id: int, since: int | None = None) -> Room:
    """The room as `actor` sees it. With `since`, the messages after it; else the latest joint page.

    Raises NotFound for a case the actor may not see.
    """
    case = load(actor, case_id)
    channels = policy.readable_channels(actor, case)
    if since is not None:
        page = messages.catch_up(actor, case_id, since)
    elif "joint" in channels:
        page = messages.history(actor, case_id, "joint")
    else:
        page = messages.Page([], False)
    decided, appeals = rulings.list_rulings(actor, case_id)
    uploads = tuple(c for c in CHANNELS if policy.can(actor, Action.UPLOAD_EVIDENCE, case, channel=c))
    return Room(case=case, channels=channels, messages=page.messages, has_older=page.has_older,
                proposals=proposals.list_proposals(actor, case_id), rulings=decided, appeals=appeals,
                allowed_actions=workflow.allowed_actions(case, actor),
                upload_channels=uploads, may_request=policy.can(actor, Action.REQUEST_EVIDENCE, case),
                embed_origins=tuple(case.platform.embed_origins or ()))
