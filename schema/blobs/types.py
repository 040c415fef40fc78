from __future__ import annotations

from datetime import datetime

import strawberry

from alliance.blobs import models
from schema.relay import to_global_id

ThumbnailStatus = strawberry.enum(
    models.ThumbnailStatus,
    description="PENDING (being made), READY, FAILED, or NONE (not an image).",
)


@strawberry.type(
    description=(
        "An uploaded photo or attachment. Images are stored re-encoded without metadata (EXIF, "
        "GPS, XMP), with their perceptual hashes; fetch the bytes from `url`."
    )
)
class Blob:
    id: strawberry.ID
    content_type: str = strawberry.field(description="Sniffed from the bytes, never the name.")
    size: int = strawberry.field(description="Bytes stored.")
    filename: str
    width: int | None
    height: int | None
    phash: str | None = strawberry.field(description="pHash, 16 hex digits (images).")
    pdq: str | None = strawberry.field(description="PDQ hash, 64 hex digits (images).")
    pdq_quality: int | None = strawberry.field(description="PDQ's quality, 0–100.")
    thumbnail_status: ThumbnailStatus  # type: ignore[valid-type]
    url: str = strawberry.field(description="GET it with your bearer token.")
    thumbnail_url: str | None = strawberry.field(description="A 320px JPEG, once READY.")
    created_at: datetime

    @classmethod
    def from_model(cls, blob: models.Blob) -> Blob:
        path = f"/v1/blobs/{blob.id}"
        return cls(
            id=to_global_id("Blob", blob.id),
            content_type=blob.content_type,
            size=blob.size,
            filename=blob.filename,
            width=blob.width,
            height=blob.height,
            phash=blob.phash,
            pdq=blob.pdq,
            pdq_quality=blob.pdq_quality,
            thumbnail_status=blob.thumbnail_status,
            url=path,
            thumbnail_url=f"{path}/thumbnail"
            if blob.thumbnail_status == models.ThumbnailStatus.READY
            else None,
            created_at=blob.created_at,
        )
