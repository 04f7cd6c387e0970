"""The roles an actor can hold, and the organisation kinds that may hold them (DESIGN §2, §7)."""

from enum import StrEnum


class Role(StrEnum):
    APPLICANT = "applicant"
    COUNCIL = "council"
    MINISTRY = "ministry"
    CONSULTED = "consulted"
    GOVERNMENT = "government"
    VIEWER = "viewer"
    ADMIN = "admin"


class OrgKind(StrEnum):
    PROVINCE = "province"
    COUNCIL = "council"
    MINISTRY = "ministry"
    GOVERNMENT = "government"
    OBSERVER = "observer"
    OPERATOR = "operator"


# Which organisation kinds may be issued a token for each role. `viewer` is open to
# every kind: any organisation may run a read-only dashboard.
ROLE_HOLDERS: dict[Role, frozenset[OrgKind]] = {
    Role.APPLICANT: frozenset({OrgKind.PROVINCE}),
    Role.COUNCIL: frozenset({OrgKind.COUNCIL}),
    Role.MINISTRY: frozenset({OrgKind.MINISTRY}),
    Role.CONSULTED: frozenset({OrgKind.MINISTRY}),
    Role.GOVERNMENT: frozenset({OrgKind.GOVERNMENT}),
    Role.VIEWER: frozenset(OrgKind),
    Role.ADMIN: frozenset({OrgKind.OPERATOR}),
}
