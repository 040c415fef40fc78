"""``POST /v1/listings/check``: NDJSON in, NDJSON out, for partners checking at volume.

Each input line is one listing (the GraphQL input's field names); each output line answers
the input line of the same number, in order: ``{"line", "ref", "verdict", "score",
"matches"}``, or ``{"line", "error": {"code", "fields"}}`` for a line that is refused (the
stream goes on). Lines are read and answered as they arrive, a batch of up to
``FLUSH_EVERY`` lines at a time (checked together), so neither side has to hold the whole
catalogue.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from alliance.auth.route_access import RouteAccess, declare
from alliance.errors import DomainError, InvalidInput
from alliance.listings import service
from alliance.listings.counting import ListingCounts
from alliance.listings.listing import Listing, parse_listing
from alliance.listings.matcher import CheckResult, Match

LISTINGS_CHECK = RouteAccess("a bearer token with the listings:check (or admin) scope")
MAX_LINE_BYTES = 1 << 20
FLUSH_EVERY = 200
MEDIA_TYPE = "application/x-ndjson"


def match_json(match: Match) -> dict[str, Any]:
    return {
        "kind": match.kind.value,
        "id": match.id,
        "field": match.field,
        "text": match.text,
        "distance": match.distance,
        "reason": match.reason,
        "outcome": match.outcome.value,
        "score": match.score,
        "exception": match.exception,
        "links": list(match.links),
        "overridden": match.overridden,
    }


def result_json(line: int, result: CheckResult) -> dict[str, Any]:
    return {
        "line": line,
        "ref": result.ref,
        "verdict": result.verdict.value,
        "score": result.score,
        "matches": [match_json(m) for m in result.matches],
    }


def error_json(line: int, exc: DomainError) -> dict[str, Any]:
    fields = (
        [{"path": list(p.path), "code": p.code, "message": p.message} for p in exc.problems]
        if isinstance(exc, InvalidInput)
        else []
    )
    return {"line": line, "error": {"code": exc.code, "message": exc.message, "fields": fields}}


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The lines of a body arriving in ``chunks`` (split anywhere). Each arrival is split
    once, so the bytes of a chunk are copied once whatever its number of lines. A line
    longer than ``MAX_LINE_BYTES`` comes out cut to one byte over (to be refused), and the
    rest of it up to its end of line is dropped rather than held."""
    pending = b""
    overlong = False
    async for chunk in chunks:
        if b"\n" not in chunk:
            if not overlong:
                pending += chunk
                if len(pending) > MAX_LINE_BYTES:
                    yield pending[: MAX_LINE_BYTES + 1]
                    pending, overlong = b"", True
            continue
        first, *middle, last = chunk.split(b"\n")
        if not overlong:
            yield _cut(pending + first)
        for line in middle:
            yield _cut(line)
        pending, overlong = b"", False
        if len(last) > MAX_LINE_BYTES:
            yield last[: MAX_LINE_BYTES + 1]
            overlong = True
        else:
            pending = last
    if pending:
        yield pending


def _cut(line: bytes) -> bytes:
    return line if len(line) <= MAX_LINE_BYTES else line[: MAX_LINE_BYTES + 1]


class DuplexStreamingResponse(StreamingResponse):
    """Answers while the request body is still arriving. Starlette's own streaming response
    listens for a disconnect by reading the request, which would take the body's messages
    from under the iterator; here the iterator reads the body (and raises on a disconnect)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.stream_response(send)
        except OSError as exc:
            raise ClientDisconnect() from exc


def listings_router() -> APIRouter:
    router = APIRouter()

    @router.post(
        "/v1/listings/check", include_in_schema=False, dependencies=declare(LISTINGS_CHECK)
    )
    async def check_stream(request: Request) -> DuplexStreamingResponse:
        from alliance.app import authenticate

        principal = await authenticate(request)
        follower = getattr(request.app.state, "listing_matcher", None)
        counts: ListingCounts | None = getattr(request.app.state, "listing_counts", None)
        try:
            async with request.app.state.sessions() as session:
                viewer = await service.checking_viewer(session, principal)
        except DomainError as exc:
            status = 401 if principal is None else 403
            raise HTTPException(status_code=status, detail=exc.message) from exc
        if follower is None:
            raise HTTPException(status_code=503, detail="the listing matcher is not running")

        async def answers() -> AsyncIterator[bytes]:
            pending: list[tuple[int, bytes]] = []
            number = 0
            async for raw in _lines(request.stream()):
                number += 1
                if not raw.strip():
                    continue
                pending.append((number, raw))
                if len(pending) >= FLUSH_EVERY:
                    yield _answers(follower.matcher, viewer, pending, counts)
                    pending = []
            if pending:
                yield _answers(follower.matcher, viewer, pending, counts)

        return DuplexStreamingResponse(answers(), media_type=MEDIA_TYPE)

    return router


def _answers(
    matcher: Any,
    viewer: Any,
    lines: list[tuple[int, bytes]],
    counts: ListingCounts | None = None,
) -> bytes:
    """The answers to numbered input lines, in order, as NDJSON: the lines' listings are
    checked as one batch."""
    answers: list[dict[str, Any] | None] = []
    listings: list[tuple[int, Listing]] = []
    for number, raw in lines:
        parsed = _parse(number, raw)
        if isinstance(parsed, dict):
            answers.append(parsed)
        else:
            listings.append((len(answers), parsed))
            answers.append(None)
    results = matcher.check_many(viewer, [listing for _, listing in listings])
    if counts is not None:
        counts.record_all(matcher, viewer, results)
    for (place, _), result in zip(listings, results, strict=True):
        answers[place] = result_json(lines[place][0], result)
    return ("\n".join(json.dumps(answer) for answer in answers) + "\n").encode()


def _parse(number: int, raw: bytes) -> Listing | dict[str, Any]:
    """The listing on an input line, or the error answering it."""
    if len(raw) > MAX_LINE_BYTES:
        return error_json(number, _invalid("TOO_LONG", f"lines are at most {MAX_LINE_BYTES} bytes"))
    try:
        item = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return error_json(number, _invalid("INVALID_JSON", str(exc)))
    if not isinstance(item, dict):
        return error_json(number, _invalid("INVALID_JSON", "each line is one JSON object"))
    try:
        return parse_listing(item)
    except InvalidInput as exc:
        return error_json(number, exc)


def _invalid(code: str, message: str) -> InvalidInput:
    from alliance.errors import FieldProblem

    return InvalidInput([FieldProblem(("line",), code, message)])
