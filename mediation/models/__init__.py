"""The data, one module per aggregate."""
from mediation.models.case import REASONS, Case, CaseState, IdempotencyKey, Party, other_role
from mediation.models.event_log import CaseEvent
from mediation.models.evidence import ChecklistAnswer, Evidence, EvidenceRequest, EvidenceWithdrawal
from mediation.models.message import CHANNELS, Message, ReadMarker
from mediation.models.notification import Notification
from mediation.models.outbox import DeliveryAttempt, WebhookDelivery, WebhookMessage
from mediation.models.platform import ApiKey, Platform, WebhookEndpoint
from mediation.models.proposal import Proposal, ProposalState
from mediation.models.rulebook import Clause, Rulebook, RulebookVersion, localized
from mediation.models.ruling import Appeal, Ruling
from mediation.models.user import LoginFailure, MediatorConflict, User

__all__ = [
    "CHANNELS", "REASONS", "ApiKey", "Appeal", "Case", "ChecklistAnswer", "Evidence", "EvidenceRequest",
    "EvidenceWithdrawal", "Clause", "LoginFailure", "Notification", "Rulebook",
    "RulebookVersion", "Ruling", "localized", "CaseEvent", "CaseState", "DeliveryAttempt",
    "IdempotencyKey", "MediatorConflict", "Message", "Party", "Platform", "Proposal", "ProposalState", "ReadMarker",
    "User", "WebhookDelivery", "WebhookEndpoint", "WebhookMessage", "other_role",
]
