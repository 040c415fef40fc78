from __future__ import annotations

from datetime import datetime

import strawberry

from alliance.federation import models
from schema.relay import to_global_id


@strawberry.type(
    description=(
        "Another alliance instance whose change feed this instance pulls, with the state of "
        "its pulls. Its client secret is never shown."
    )
)
class FederationPeer:
    id: strawberry.ID
    name: str
    url: str
    token_url: str
    client_id: str
    scope: str
    active: bool
    instance_id: str | None = strawberry.field(
        description="The peer's instance id, learned in its handshake on the first pull."
    )
    last_cursor: str | None = strawberry.field(
        description="Where the next pull resumes in the peer's feed (stored after each commit)."
    )
    last_pulled_at: datetime | None
    last_error: str | None = strawberry.field(
        description="Why the last pull stopped; null once a pull succeeds."
    )
    lag_changes: int | None = strawberry.field(
        description="Changes still waiting at the peer after the last pull (0: caught up)."
    )
    lag_seconds: float | None = strawberry.field(
        description="How old the newest change read was while more were waiting (0: caught up)."
    )
    imported_count: int = strawberry.field(
        description="Changes applied here from this peer, in all pulls."
    )
    created_at: datetime

    @classmethod
    def from_model(cls, peer: models.Peer) -> FederationPeer:
        return cls(
            id=to_global_id("FederationPeer", peer.id),
            name=peer.name,
            url=peer.base_url,
            token_url=peer.token_url,
            client_id=peer.client_id,
            scope=peer.scope,
            active=peer.active,
            instance_id=peer.instance_id,
            last_cursor=peer.last_cursor,
            last_pulled_at=peer.last_pulled_at,
            last_error=peer.last_error,
            lag_changes=peer.lag_changes,
            lag_seconds=peer.lag_seconds,
            imported_count=peer.imported_count or 0,
            created_at=peer.created_at,
        )
