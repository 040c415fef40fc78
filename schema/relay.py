"""Global ids, opaque cursors and Relay connections."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import strawberry

from alliance.errors import FieldProblem, InvalidInput
from schema.lean import lean

T = TypeVar("T")


def to_global_id(type_name: str, raw_id: uuid.UUID | str) -> strawberry.ID:
    return strawberry.ID(
        base64.urlsafe_b64encode(f"{type_name}:{raw_id}".encode()).decode().rstrip("=")
    )


def from_global_id(
    global_id: str, field: str = "id", expected: str | None = None
) -> tuple[str, uuid.UUID]:
    """Decode a global id; bad or foreign ids raise a field error naming ``field``."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, raw = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        value = uuid.UUID(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput([FieldProblem((field,), "INVALID_ID", "is not a valid id")]) from exc
    if expected is not None and type_name != expected:
        raise InvalidInput(
            [FieldProblem((field,), "WRONG_ID_TYPE", f"must be the id of a {expected}")]
        )
    return type_name, value


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(f"c1:{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput(
            [FieldProblem(("after",), "INVALID_CURSOR", "is not a valid cursor")]
        ) from exc
    if not raw.startswith("c1:"):
        raise InvalidInput([FieldProblem(("after",), "INVALID_CURSOR", "is not a valid cursor")])
    return raw[3:]


def page_size(first: int | None, maximum: int, default: int = 20) -> int:
    if first is None:
        return min(default, maximum)
    if first < 0 or first > maximum:
        raise InvalidInput(
            [FieldProblem(("first",), "OUT_OF_RANGE", f"must be between 0 and {maximum}")]
        )
    return first


@strawberry.interface(description="An object with a global id.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    _count: strawberry.Private[int | Callable[[], Awaitable[int]]]

    @strawberry.field(description="Number of items in the whole list, not just this page.")
    @lean
    def total_count(self) -> int:
        # A synchronous resolver may hand graphql-core an awaitable: a total the loader
        # already knows (every nested connection) then costs no coroutine.
        if isinstance(self._count, int):
            return self._count
        return self._count()  # type: ignore[return-value]


def build_connection(
    nodes: Sequence[T],
    keys: Sequence[str],
    *,
    has_next_page: bool,
    has_previous_page: bool,
    count: int | Callable[[], Awaitable[int]],
) -> Connection[T]:
    cursors = [encode_cursor(k) for k in keys]
    return Connection(
        edges=[Edge(node=n, cursor=c) for n, c in zip(nodes, cursors, strict=True)],
        page_info=PageInfo(
            has_next_page=has_next_page,
            has_previous_page=has_previous_page,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        _count=count,
    )
