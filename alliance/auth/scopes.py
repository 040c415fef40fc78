"""The scopes that gate operations. The sharing policy, not scopes, gates objects."""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "indicators:read": "read counterfeit indicators",
    "indicators:write": "submit, react to and revoke indicators",
    "guides:read": "read identification guides",
    "guides:write": "write identification guides",
    "guides:review": "review guides written by others",
    "guides:publish": "publish reviewed guides",
    "rules:read": "read banned-category rules",
    "rules:write": "propose and edit banned-category rules",
    "listings:check": "check listings against indicators and rules",
    "sync:read": "pull the change feed",
    "cases:read": "read the cases one's organisation takes part in, and test buys",
    "cases:write": "record test buys; open, refer, answer and close cases; attach evidence",
    "webhooks:manage": "manage one's own organisation's webhook subscriptions",
    "federation": "act as a federated peer instance",
    "org:admin": "administer one's own organisation (members, clients, working-group seats it chairs)",
    "admin": "operate the instance (organisations, working groups, clients, peers)",
}


def unknown_scopes(requested: list[str]) -> list[str]:
    return [s for s in requested if s not in SCOPES]
