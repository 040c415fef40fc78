"""What a token may carry: the ceiling set by its client, its subject and its organisation.

Pure functions over plain data. A request names operation scopes (``indicators:read``)
and, optionally, working groups as ``wg:<slug>`` scope values; whatever it leaves out
defaults to everything the ceiling allows. Asking for anything above the ceiling is
refused (``invalid_scope``), never silently trimmed, so a client learns its limits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from alliance.auth.scopes import SCOPES

WORKING_GROUP_PREFIX = "wg:"
OPERATOR_SCOPE = "admin"
ORG_ADMIN_SCOPE = "org:admin"
# Only machines act as federated peers.
MACHINE_ONLY_SCOPES = frozenset({"federation"})
# The organisation kind that operates the instance (the alliance's own office).
OPERATOR_ORGANISATION_KIND = "ASSOCIATION"


class ScopeRefused(Exception):
    """The request asks for more than the ceiling allows; the message names what."""


@dataclass(frozen=True, slots=True)
class Ceiling:
    scopes: frozenset[str]
    working_groups: Mapping[str, uuid.UUID]  # slug -> id

    def narrowed_to(self, granted_scope: str) -> Ceiling:
        """This ceiling, limited to what an earlier grant (e.g. a refresh token's) carried."""
        earlier = parse_scope(granted_scope)
        return Ceiling(
            scopes=self.scopes & frozenset(earlier.scopes),
            working_groups={
                slug: gid
                for slug, gid in self.working_groups.items()
                if slug in earlier.working_groups
            },
        )


@dataclass(frozen=True, slots=True)
class Requested:
    scopes: tuple[str, ...]
    working_groups: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Granted:
    scopes: tuple[str, ...]
    working_groups: tuple[tuple[str, uuid.UUID], ...]  # (slug, id), by slug

    @property
    def working_group_ids(self) -> tuple[uuid.UUID, ...]:
        return tuple(gid for _, gid in self.working_groups)

    @property
    def scope_string(self) -> str:
        """The granted scope as OAuth writes it: operations, then ``wg:<slug>`` values."""
        return " ".join(
            [*self.scopes, *(f"{WORKING_GROUP_PREFIX}{slug}" for slug, _ in self.working_groups)]
        )


def parse_scope(scope: str | None) -> Requested:
    values = list(dict.fromkeys((scope or "").split()))
    groups = tuple(
        v[len(WORKING_GROUP_PREFIX) :] for v in values if v.startswith(WORKING_GROUP_PREFIX)
    )
    operations = tuple(v for v in values if not v.startswith(WORKING_GROUP_PREFIX))
    return Requested(scopes=operations, working_groups=groups)


def _ordered(scopes: Iterable[str]) -> tuple[str, ...]:
    chosen = set(scopes)
    return tuple(s for s in SCOPES if s in chosen)


def organisation_scopes(organisation_kind: str) -> frozenset[str]:
    """Every organisation may hold every scope except ``admin``, which is the operator's."""
    allowed = set(SCOPES)
    if organisation_kind != OPERATOR_ORGANISATION_KIND:
        allowed.discard(OPERATOR_SCOPE)
    return frozenset(allowed)


def person_scopes(organisation_kind: str, *, org_admin: bool) -> frozenset[str]:
    """People act for their organisation; only its administrators administer."""
    allowed = set(organisation_scopes(organisation_kind)) - MACHINE_ONLY_SCOPES
    if not org_admin:
        allowed -= {ORG_ADMIN_SCOPE, OPERATOR_SCOPE}
    return frozenset(allowed)


def client_scopes(client_scopes: Iterable[str], organisation_kind: str) -> frozenset[str]:
    return frozenset(client_scopes) & organisation_scopes(organisation_kind)


def working_group_ceiling(
    memberships: Mapping[str, uuid.UUID], client_group_ids: Iterable[str] | None
) -> dict[str, uuid.UUID]:
    """The organisation's seats, limited to the client's groups when the client names some."""
    if client_group_ids is None:
        return dict(memberships)
    allowed = {str(g) for g in client_group_ids}
    return {slug: gid for slug, gid in memberships.items() if str(gid) in allowed}


def decide(scope: str | None, ceiling: Ceiling) -> Granted:
    """The grant for a requested scope under a ceiling; ScopeRefused names any escalation."""
    requested = parse_scope(scope)
    unknown = [s for s in requested.scopes if s not in SCOPES]
    if unknown:
        raise ScopeRefused(f"unknown scope(s): {', '.join(unknown)}")
    above = [s for s in requested.scopes if s not in ceiling.scopes]
    if above:
        raise ScopeRefused(f"scope(s) not allowed for this client and subject: {', '.join(above)}")
    outside = [g for g in requested.working_groups if g not in ceiling.working_groups]
    if outside:
        raise ScopeRefused(
            "working group(s) not allowed for this client and organisation: " + ", ".join(outside)
        )
    scopes = _ordered(requested.scopes or ceiling.scopes)
    if not scopes:
        raise ScopeRefused("no scope can be granted to this client and subject")
    slugs = requested.working_groups or tuple(ceiling.working_groups)
    return Granted(
        scopes=scopes,
        working_groups=tuple(sorted((slug, ceiling.working_groups[slug]) for slug in slugs)),
    )
