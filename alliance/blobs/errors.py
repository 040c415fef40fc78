"""Typed blob errors: why an upload is refused (``InvalidInput`` on ``file``, with a code), and
why a store cannot be swept."""

from __future__ import annotations

import enum

from alliance.errors import DomainError, FieldProblem, InvalidInput


class BlobErrorCode(enum.StrEnum):
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    TOO_LARGE = "TOO_LARGE"
    DECOMPRESSION_BOMB = "DECOMPRESSION_BOMB"
    CORRUPT_FILE = "CORRUPT_FILE"


def refused(code: BlobErrorCode, message: str) -> InvalidInput:
    return InvalidInput([FieldProblem(("file",), code.value, message)])


def too_large(max_bytes: int) -> InvalidInput:
    return refused(BlobErrorCode.TOO_LARGE, f"is larger than the limit of {max_bytes} bytes")


class UnsupportedStore(DomainError):
    """The orphan collector was asked to sweep a store it cannot list (an S3 bucket)."""

    code = "UNSUPPORTED_STORE"
