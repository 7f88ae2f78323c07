"""Who is acting. Plain values (ids, not ORM rows) so they cross threads and transactions safely."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PartyActor:
    party_id: int
    case_id: int
    role: str  # buyer or seller
    name: str = ""
    # The party's link generation when this identity was proven; services re-check it (revocation).
    generation: int | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        return f"party:{self.party_id}"

    @property
    def label(self) -> str:
        return f"{self.role}:{self.party_id}"


@dataclass(frozen=True)
class StaffActor:
    user_id: int
    role: str  # mediator or admin
    name: str = ""

    @property
    def key(self) -> str:
        return f"user:{self.user_id}"

    @property
    def label(self) -> str:
        return f"{self.role}:{self.user_id}"


@dataclass(frozen=True)
class PlatformActor:
    platform_id: int

    @property
    def key(self) -> str:
        return f"platform:{self.platform_id}"

    label = key


@dataclass(frozen=True)
class SystemActor:
    """The scheduler and other automatic steps."""

    key = "system"
    label = "system"


@dataclass(frozen=True)
class Anonymous:
    key = "anonymous"
    label = "anonymous"


Actor = PartyActor | StaffActor | PlatformActor | SystemActor | Anonymous
ANONYMOUS = Anonymous()
SYSTEM = SystemActor()
