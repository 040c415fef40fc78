"""What a file is, read from its first bytes: never from its name or the declared type."""

from __future__ import annotations

import enum


class BlobType(enum.StrEnum):
    JPEG = "image/jpeg"
    PNG = "image/png"
    WEBP = "image/webp"
    GIF = "image/gif"
    PDF = "application/pdf"

    @property
    def is_image(self) -> bool:
        return self is not BlobType.PDF

    @property
    def pillow_format(self) -> str:
        return {
            BlobType.JPEG: "JPEG",
            BlobType.PNG: "PNG",
            BlobType.WEBP: "WEBP",
            BlobType.GIF: "GIF",
        }[self]

    @property
    def extension(self) -> str:
        return {
            BlobType.JPEG: "jpg",
            BlobType.PNG: "png",
            BlobType.WEBP: "webp",
            BlobType.GIF: "gif",
            BlobType.PDF: "pdf",
        }[self]


def sniff(data: bytes) -> BlobType | None:
    """The type announced by the magic bytes at offset 0, or None for anything else.

    Only offset 0 counts: a PDF header further in (which readers tolerate) is how HTML and
    PDF polyglots are made, so it is refused here.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return BlobType.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return BlobType.PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return BlobType.WEBP
    if data.startswith((b"GIF87a", b"GIF89a")):
        return BlobType.GIF
    if data.startswith((b"%PDF-1.", b"%PDF-2.")):
        return BlobType.PDF
    return None


def looks_like_complete_pdf(data: bytes) -> bool:
    """A PDF ends with ``%%EOF`` (give or take trailing whitespace and incremental-update
    slack); a truncated or disguised file usually does not."""
    return b"%%EOF" in data[-1024:]
