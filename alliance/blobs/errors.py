"""Why an upload is refused: a typed ``InvalidInput`` on the ``file`` field, with a code."""

from __future__ import annotations

import enum

from alliance.errors import FieldProblem, InvalidInput


class BlobErrorCode(enum.StrEnum):
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    TOO_LARGE = "TOO_LARGE"
    DECOMPRESSION_BOMB = "DECOMPRESSION_BOMB"
    CORRUPT_FILE = "CORRUPT_FILE"


def refused(code: BlobErrorCode, message: str) -> InvalidInput:
    return InvalidInput([FieldProblem(("file",), code.value, message)])


def too_large(max_bytes: int) -> InvalidInput:
    return refused(BlobErrorCode.TOO_LARGE, f"is larger than the limit of {max_bytes} bytes")
