from __future__ import annotations

import strawberry
from strawberry.types import Info

from alliance.blobs import service
from alliance.errors import NotFound
from schema.blobs.types import Blob
from schema.indicators.dataloaders import viewer
from schema.permissions import query_field, scopes
from schema.relay import from_global_id

READ = ("guides:read", "guides:write", "guides:review", "guides:publish", "admin")


@strawberry.type
class BlobsQuery:
    @query_field(
        scopes(*READ),
        description=(
            "A blob you may read: one attached to an object you may see, or your organisation's "
            "own not yet attached to anything."
        ),
    )
    async def blob(self, info: Info, id: strawberry.ID) -> Blob | None:
        raw = from_global_id(id, "id", "Blob")[1]
        try:
            principal = info.context.principal
            found = await service.readable_blob(
                info.context.session,
                await viewer(info),
                raw,
                scopes=principal.scopes if principal else frozenset(),
            )
        except NotFound:
            return None
        return Blob.from_model(found)
