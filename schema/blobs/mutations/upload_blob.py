"""``uploadBlob(file: Upload!)``: a photo or PDF, by the GraphQL multipart request spec."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from alliance.blobs import service
from alliance.blobs.errors import too_large
from alliance.errors import Forbidden as DomainForbidden
from alliance.sharing.policy import ViewerKind
from schema.blobs.types import Blob
from schema.errors import Forbidden, ValidationError
from schema.indicators.dataloaders import viewer
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes

WRITE = ("guides:write",)


@strawberry.type
class UploadBlobPayload:
    blob: Blob


UploadBlobResult = Annotated[
    UploadBlobPayload | ValidationError | Forbidden, strawberry.union("UploadBlobResult")
]


@strawberry.type
class UploadBlob:
    @mutation_field(
        scopes(*WRITE),
        description=(
            "Upload a JPEG, PNG, WebP or GIF image or a PDF (judged by its bytes). Images are "
            "stripped of metadata and hashed (pHash, PDQ); refused files store nothing "
            "(codes UNSUPPORTED_TYPE, TOO_LARGE, DECOMPRESSION_BOMB, CORRUPT_FILE on `file`)."
        ),
    )
    async def upload_blob(self, info: Info, file: Upload) -> UploadBlobResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            settings = info.context.settings
            who = await viewer(info)
            if who.kind != ViewerKind.MEMBER or who.organisation_id is None:
                raise DomainForbidden("only a member organisation may upload")
            upload: Any = file
            max_bytes = settings.blobs.max_bytes
            # Never hold more than the limit in memory, however large the part was.
            data = await upload.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise too_large(max_bytes)
            blob = await service.store_upload(
                session,
                settings=settings,
                owner_org_id=who.organisation_id,
                filename=getattr(upload, "filename", None),
                data=data,
            )
            return UploadBlobPayload(blob=Blob.from_model(blob))

        return await run_mutation(info, work)
