"""Blob writes: accept an upload (or refuse it, storing nothing), make its thumbnail, and turn
a photo's perceptual hash into an image indicator."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import hashlib
import re
import unicodedata
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.blobs import access, images
from alliance.blobs import repository as repo
from alliance.blobs.errors import BlobErrorCode, refused, too_large
from alliance.blobs.models import Blob, ThumbnailStatus
from alliance.blobs.sniffing import BlobType, looks_like_complete_pdf, sniff
from alliance.blobs.storage import BlobStorage, blob_key, storage_for, thumbnail_key
from alliance.config import Settings
from alliance.errors import FieldProblem, InvalidInput, NotFound
from alliance.indicators import service as indicators
from alliance.indicators.indicator_type import IndicatorType
from alliance.jobs import enqueue
from alliance.sharing.policy import Viewer

THUMBNAIL_TASK = "blobs.make_thumbnail"
MAX_FILENAME = 200
_UNSAFE = re.compile(r"[^\w.\- ()]+")


class ImageHashType(enum.StrEnum):
    PHASH = "PHASH"
    PDQ = "PDQ"


def sanitise_filename(filename: str | None, kind: BlobType) -> str:
    """The last path segment, in NFC, without control or shell-special characters, and with
    the extension of what the file really is (``invoice.html`` holding a PNG is ``invoice.png``)."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" ._")
    stem = name.rsplit(".", 1)[0].strip(" ._") if "." in name else name
    stem = stem[: MAX_FILENAME - 5] or "upload"
    return f"{stem}.{kind.extension}"


@dataclasses.dataclass(frozen=True, slots=True)
class _Accepted:
    kind: BlobType
    data: bytes
    sha256: str
    image: images.SanitisedImage | None


def _validate(data: bytes, *, max_bytes: int, max_pixels: int) -> _Accepted:
    """Pure and CPU-bound (run off the event loop): what to store, or why not."""
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    if not data:
        raise refused(BlobErrorCode.UNSUPPORTED_TYPE, "is empty")
    kind = sniff(data)
    if kind is None:
        raise refused(
            BlobErrorCode.UNSUPPORTED_TYPE,
            "is not a JPEG, PNG, WebP or GIF image or a PDF document (judged by its content, "
            "not its name)",
        )
    if kind is BlobType.PDF:
        if not looks_like_complete_pdf(data):
            raise refused(
                BlobErrorCode.CORRUPT_FILE, "starts like a PDF but has no end-of-file marker"
            )
        return _Accepted(kind, data, hashlib.sha256(data).hexdigest(), None)
    image = images.sanitise(data, kind, max_pixels=max_pixels)
    if len(image.data) > max_bytes:
        raise too_large(max_bytes)
    return _Accepted(kind, image.data, hashlib.sha256(image.data).hexdigest(), image)


async def store_upload(
    session: AsyncSession,
    *,
    settings: Settings,
    owner_org_id: uuid.UUID,
    filename: str | None,
    data: bytes,
    storage: BlobStorage | None = None,
) -> Blob:
    """Validate an upload and keep it. A refused upload raises ``InvalidInput`` on ``file``
    (UNSUPPORTED_TYPE, TOO_LARGE, DECOMPRESSION_BOMB, CORRUPT_FILE) and stores nothing.

    Images are stored re-encoded from their pixels (metadata gone), with their size and
    perceptual hashes; a thumbnail is made in the background once the transaction commits.
    The same content uploaded again by the same organisation returns its blob.
    """
    limits = settings.blobs
    accepted = await asyncio.to_thread(
        _validate, data, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels
    )
    existing = await repo.blob_of_owner_by_sha256(session, owner_org_id, accepted.sha256)
    store = storage or storage_for(settings)
    key = blob_key(accepted.sha256)
    had_file = await asyncio.to_thread(store.exists, key)
    if existing is not None:
        if not had_file:
            await asyncio.to_thread(store.put, key, accepted.data)
        return existing
    # Written even when the file is there: a new row's file must be young, or the orphan
    # collector (``alliance.blobs.orphans``) could take it before the row commits.
    await asyncio.to_thread(store.put, key, accepted.data)
    image = accepted.image
    blob = Blob(
        owner_org_id=owner_org_id,
        sha256=accepted.sha256,
        content_type=accepted.kind.value,
        size=len(accepted.data),
        filename=sanitise_filename(filename, accepted.kind),
        width=image.width if image else None,
        height=image.height if image else None,
        phash=image.phash if image else None,
        pdq=image.pdq if image else None,
        pdq_quality=image.pdq_quality if image else None,
        thumbnail_status=ThumbnailStatus.PENDING if image else ThumbnailStatus.NONE,
    )
    session.add(blob)
    try:
        await session.flush()
    except BaseException:
        if not had_file and await repo.blobs_sharing_content(session, accepted.sha256) == 0:
            await asyncio.to_thread(store.delete, key)
        raise
    if image is not None:
        enqueue(session, THUMBNAIL_TASK, blob_id=str(blob.id))
    return blob


async def make_thumbnail(
    session: AsyncSession,
    *,
    settings: Settings,
    blob_id: uuid.UUID,
    storage: BlobStorage | None = None,
) -> ThumbnailStatus | None:
    """Make (or make again) a blob's thumbnail beside it; None if the blob is gone."""
    blob = await repo.blob_by_id(session, blob_id)
    if blob is None:
        return None
    kind = BlobType(blob.content_type)
    if not kind.is_image:
        blob.thumbnail_status = ThumbnailStatus.NONE
        return blob.thumbnail_status
    store = storage or storage_for(settings)
    try:
        data = await asyncio.to_thread(store.get, blob_key(blob.sha256))
        small = await asyncio.to_thread(
            images.thumbnail, data, kind, max_pixels=settings.blobs.max_pixels
        )
        await asyncio.to_thread(store.put, thumbnail_key(blob.sha256), small)
    except (InvalidInput, OSError):
        blob.thumbnail_status = ThumbnailStatus.FAILED
    else:
        blob.thumbnail_status = ThumbnailStatus.READY
    await session.flush()
    return blob.thumbnail_status


async def readable_blob(
    session: AsyncSession,
    viewer: Viewer,
    blob_id: uuid.UUID,
    *,
    scopes: frozenset[str] = frozenset(),
) -> Blob:
    """The blob, if the viewer (holding ``scopes``) may read it; otherwise ``NotFound`` (its
    existence is not told)."""
    blob = await repo.blob_by_id(session, blob_id)
    if blob is None or not await access.may_read(session, viewer, blob, scopes):
        raise NotFound("blob", str(blob_id))
    return blob


async def content(settings: Settings, blob: Blob, *, thumbnail: bool = False) -> bytes | None:
    """The stored bytes (or the thumbnail's); None when they are not there (yet)."""
    store = storage_for(settings)
    key = thumbnail_key(blob.sha256) if thumbnail else blob_key(blob.sha256)
    try:
        return await asyncio.to_thread(store.get, key)
    except FileNotFoundError:
        return None


async def submit_image_indicator(
    session: AsyncSession,
    viewer: Viewer,
    blob_id: uuid.UUID,
    hash_type: ImageHashType,
    submission: indicators.Submission,
    *,
    settings: Settings,
) -> indicators.ItemResult:
    """Assert a photo's pHash or PDQ hash as an image indicator, with the sharing and the
    judgement given in ``submission`` (whose type and value are replaced by the hash)."""
    blob = await readable_blob(session, viewer, blob_id)
    if blob.phash is None or blob.pdq is None:
        raise InvalidInput(
            [FieldProblem(("blobId",), "NOT_AN_IMAGE", "is not an image: it has no hash")]
        )
    if hash_type is ImageHashType.PHASH:
        item = dataclasses.replace(
            submission, type=IndicatorType.IMAGE_PHASH, value=blob.phash, parts={}
        )
    else:
        item = dataclasses.replace(
            submission,
            type=IndicatorType.IMAGE_PDQ,
            value=blob.pdq,
            parts={"quality": blob.pdq_quality},
        )
    [result] = await indicators.submit(session, viewer, [item], settings=settings.indicators)
    return result
