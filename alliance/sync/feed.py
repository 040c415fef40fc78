"""The partner change feed as NDJSON lines: what ``GET /v1/changes`` streams.

Each line is one change-log row as :func:`alliance.changelog.service.as_seen_by` shows it to
the caller, selected by the sharing policy's :func:`~alliance.sharing.policy.feed_predicate`;
the last line says where to resume. Two paths produce the same bytes: :func:`python_chunks`
(any database; the only one with ``include=object``) and, on PostgreSQL, :func:`postgres_chunks`,
where PostgreSQL builds the lines itself and streams them out through ``COPY`` (a million rows
would otherwise spend most of their time in per-row Python). A test holds them equal.

Cursors are the GraphQL ``changes`` connection's (``schema.relay.encode_cursor`` of the
sequence number), so a consumer may switch between the two.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
from sqlalchemy import ColumnElement, and_, literal_column, not_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alliance.auth.principal import Principal
from alliance.auth.revocations import token_revoked
from alliance.changelog import repository as repo
from alliance.changelog import service as changelog
from alliance.changelog.models import VISIBILITY_LOWERED, ChangeLogEntry, Operation
from alliance.errors import FieldProblem, InvalidInput
from alliance.orgs import repository as orgs_repo
from alliance.pagination import count
from alliance.sharing.policy import (
    FeedView,
    Viewer,
    can_see,
    compile_sql,
    feed_predicate,
    search_filter,
)
from alliance.sharing.service import load_viewer

DEFAULT_LIMIT = 1_000
MAX_LIMIT = 100_000
MAX_FILTER_VALUES = 50
# Rows read per query on the Python path, and bytes gathered before a chunk is sent.
PYTHON_BATCH = 1_000
FLUSH_BYTES = 1 << 18
KIND = re.compile(r"[a-z][a-z0-9_.]{0,63}")
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
# Operations whose line carries the object's snapshot with include=object.
WITH_OBJECT = frozenset({Operation.CREATE, Operation.UPDATE, Operation.REVOKE})
_SEQ = re.compile(rb'"seq":(\d+)')


# --- cursors -------------------------------------------------------------------------------


def encode_cursor(seq: int) -> str:
    """The same encoding as ``schema.relay.encode_cursor(str(seq))`` (``alliance`` does not
    import ``schema``; a test holds the two equal)."""
    return base64.urlsafe_b64encode(f"c1:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    problem = InvalidInput([FieldProblem(("after",), "INVALID_CURSOR", "is not a valid cursor")])
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise problem from exc
    if not raw.startswith("c1:") or not raw[3:].isascii() or not raw[3:].isdigit():
        raise problem
    seq = int(raw[3:])
    if seq >= 1 << 63:
        raise problem
    return seq


# --- the request ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedQuery:
    after: int = 0
    limit: int = DEFAULT_LIMIT
    kinds: tuple[str, ...] | None = None
    working_groups: tuple[str, ...] | None = None  # slugs
    include_object: bool = False
    count: bool = False


def _listed(
    params: Mapping[str, str], name: str, pattern: re.Pattern[str], problems: list[FieldProblem]
) -> tuple[str, ...] | None:
    raw = params.get(name)
    if raw is None or not raw.strip():
        return None
    values = tuple(dict.fromkeys(v.strip() for v in raw.split(",") if v.strip()))
    problems += name_problems(name, values, pattern)
    return values


def name_problems(
    field: str, values: Sequence[str], pattern: re.Pattern[str]
) -> list[FieldProblem]:
    """A filter list (kinds, working-group slugs): capped, and each a well-formed name."""
    if len(values) > MAX_FILTER_VALUES:
        return [FieldProblem((field,), "TOO_MANY", f"at most {MAX_FILTER_VALUES} values")]
    if bad := [v for v in values if not pattern.fullmatch(v)]:
        return [FieldProblem((field,), "INVALID", f"not a valid name: {bad[0][:70]!r}")]
    return []


def _flag(params: Mapping[str, str], name: str, problems: list[FieldProblem]) -> bool:
    raw = params.get(name)
    if raw is None or raw == "" or raw.lower() in ("false", "0"):
        return False
    if raw.lower() in ("true", "1"):
        return True
    problems.append(FieldProblem((name,), "INVALID", "must be true or false"))
    return False


def parse_query(params: Mapping[str, str]) -> FeedQuery:
    """The query string of ``GET /v1/changes``; every problem is reported at once."""
    problems: list[FieldProblem] = []
    after = 0
    if params.get("after"):
        try:
            after = decode_cursor(params["after"])
        except InvalidInput as exc:
            problems += exc.problems
    limit = DEFAULT_LIMIT
    if (raw_limit := params.get("limit")) is not None:
        if (
            not raw_limit.isascii()
            or not raw_limit.isdigit()
            or not 1 <= int(raw_limit) <= MAX_LIMIT
        ):
            problems.append(
                FieldProblem(("limit",), "OUT_OF_RANGE", f"must be between 1 and {MAX_LIMIT}")
            )
        else:
            limit = int(raw_limit)
    kinds = _listed(params, "kinds", KIND, problems)
    groups = _listed(params, "workingGroups", SLUG, problems)
    include = params.get("include")
    if include not in (None, "", "object"):
        problems.append(FieldProblem(("include",), "INVALID", "the only value is 'object'"))
    counting = _flag(params, "count", problems)
    if problems:
        raise InvalidInput(problems)
    return FeedQuery(after, limit, kinds, groups, include == "object", counting)


async def working_group_ids(
    session: AsyncSession, slugs: Sequence[str] | None
) -> list[uuid.UUID] | None:
    """The groups named by slug; an unknown slug is bad input (not an empty feed)."""
    if not slugs:
        return None
    ids, unknown = [], []
    for slug in slugs:
        group = await orgs_repo.working_group_by_slug(session, slug)
        if group is None:
            unknown.append(slug)
        else:
            ids.append(group.id)
    if unknown:
        raise InvalidInput(
            [FieldProblem(("workingGroups",), "NOT_FOUND", f"no working group {unknown[0]!r}")]
        )
    return ids


# --- one line ------------------------------------------------------------------------------


def occurred_at_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def change_line(viewer: Viewer, entry: ChangeLogEntry) -> dict[str, Any]:
    """One row as the caller reads it; a removal says nothing of the object's new visibility."""
    head: dict[str, Any] = {
        "cursor": encode_cursor(entry.seq),
        "seq": entry.seq,
        "kind": entry.kind,
        "id": entry.object_id,
        "version": entry.version,
    }
    if changelog.as_seen_by(viewer, entry) == FeedView.REMOVAL:
        return head | {
            "operation": Operation.REMOVE.value,
            "reason": entry.reason if entry.audience_org_id else VISIBILITY_LOWERED,
            "occurredAt": occurred_at_text(entry.occurred_at),
            "distribution": None,
            "tlp": None,
            "workingGroupId": None,
            "ownerOrgId": None,
        }
    return head | {
        "operation": entry.operation.value,
        "reason": entry.reason,
        "occurredAt": occurred_at_text(entry.occurred_at),
        "distribution": entry.distribution.value,
        "tlp": entry.tlp.value,
        "workingGroupId": str(entry.working_group_id) if entry.working_group_id else None,
        "ownerOrgId": str(entry.owner_org_id) if entry.owner_org_id else None,
    }


def dumps(line: Mapping[str, Any]) -> str:
    """Compact, UTF-8 as is: the bytes PostgreSQL's ``to_json`` writes for the same values."""
    return json.dumps(line, separators=(",", ":"), ensure_ascii=False)


def end_line(cursor: int, has_more: bool) -> bytes:
    return (
        dumps({"end": True, "cursor": encode_cursor(cursor), "hasMore": has_more}) + "\n"
    ).encode()


def count_line(n: int) -> bytes:
    return (dumps({"count": n}) + "\n").encode()


# --- the feed ------------------------------------------------------------------------------


async def count_changes(
    session: AsyncSession,
    viewer: Viewer,
    query: FeedQuery,
    group_ids: Sequence[uuid.UUID] | None,
    *,
    left_out: ColumnElement[bool] | None = None,
) -> int:
    """How many lines (end line aside) a consumer at ``query.after`` has yet to read;
    ``left_out`` names the rows its feed drops (a peer's own objects coming back)."""
    stmt = repo.visible_changes_query(viewer, kinds=query.kinds, working_group_ids=group_ids)
    stmt = stmt.where(ChangeLogEntry.seq > query.after)
    if left_out is not None:
        stmt = stmt.where(not_(left_out))
    return await count(session, stmt)


def feed_chunks(
    session: AsyncSession,
    viewer: Viewer,
    query: FeedQuery,
    group_ids: Sequence[uuid.UUID] | None,
) -> AsyncIterator[bytes]:
    """The response body: change lines, then the end line."""
    if not query.include_object and session.get_bind().dialect.name == "postgresql":
        return postgres_chunks(session, viewer, query, group_ids)
    return python_chunks(session, viewer, query, group_ids)


async def python_chunks(
    session: AsyncSession,
    viewer: Viewer,
    query: FeedQuery,
    group_ids: Sequence[uuid.UUID] | None,
) -> AsyncIterator[bytes]:
    # The head is read before the rows: every row up to it is committed (the log's
    # commit-order lock), so a consumer that did not get one of them may skip it for good.
    head = await changelog.head(session)
    after, emitted, has_more = query.after, 0, False
    while True:
        page = await repo.page_visible_changes(
            session,
            viewer,
            kinds=query.kinds,
            working_group_ids=group_ids,
            after=after,
            limit=min(PYTHON_BATCH, query.limit - emitted),
        )
        lines = [change_line(viewer, entry) for entry in page.items]
        if query.include_object:
            await _attach_objects(viewer, session, page.items, lines)
        if lines:
            yield ("\n".join(map(dumps, lines)) + "\n").encode()
            after, emitted = page.items[-1].seq, emitted + len(lines)
        if not page.has_next_page:
            break
        if emitted >= query.limit:
            has_more = True
            break
    yield end_line(after if has_more else max(after, head), has_more)


async def _attach_objects(
    viewer: Viewer,
    session: AsyncSession,
    entries: Sequence[ChangeLogEntry],
    lines: list[dict[str, Any]],
) -> None:
    """``object``: the current snapshot, on the lines of changes that carry one. A snapshot is
    the object as it is now, which the caller may no longer see (a line from before its
    visibility was lowered): then it is null, as it is when a write raced this read (the
    snapshot's marking differs from the log's). The removal line follows in the feed."""
    from alliance.sync.portable import load_snapshots  # the federation engineer's module

    wanted = [
        i
        for i, (entry, line) in enumerate(zip(entries, lines, strict=True))
        if line["operation"] != Operation.REMOVE.value and entry.operation in WITH_OBJECT
    ]
    refs = list(dict.fromkeys((entries[i].kind, entries[i].object_id) for i in wanted))
    snapshots = await load_snapshots(session, refs) if refs else {}
    now = await repo.latest_visibilities(session, list(snapshots))
    shown: dict[tuple[str, str], dict[str, Any]] = {}
    for ref, snapshot in snapshots.items():
        visibility = now.get(ref)
        if (
            visibility is not None
            and can_see(viewer, visibility)
            and snapshot.get("distribution") == visibility.distribution.value
            and snapshot.get("tlp") == visibility.tlp.value
        ):
            shown[ref] = snapshot
    for i in wanted:
        lines[i]["object"] = shown.get((entries[i].kind, entries[i].object_id))


# --- the PostgreSQL path -------------------------------------------------------------------

_CURSOR_SQL = (
    "translate(rtrim(encode(convert_to('c1:' || seq, 'UTF8'), 'base64'), '='), '+/', '-_')"
)
_AT_SQL = """to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def _uuid_sql(column: str) -> str:
    return f"""coalesce('"' || {column}::text || '"', 'null')"""


def postgres_line_sql(viewer: Viewer) -> str:
    """The line of :func:`change_line`, as a PostgreSQL text expression over ``change_log``."""
    columns = repo.FEED_COLUMNS
    sees_now = and_(
        columns.audience_org_id.is_(None), compile_sql(search_filter(viewer), columns.current)
    )
    is_change = _literal_sql(sees_now)
    return f"""'{{"cursor":"' || {_CURSOR_SQL} || '","seq":' || seq
    || ',"kind":' || to_json(kind)::text || ',"id":' || to_json(object_id)::text
    || ',"version":' || version
    || CASE WHEN {is_change} THEN
        ',"operation":"' || operation || '","reason":' || coalesce(to_json(reason)::text, 'null')
        || ',"occurredAt":"' || {_AT_SQL}
        || '","distribution":"' || distribution || '","tlp":"' || tlp
        || '","workingGroupId":' || {_uuid_sql("working_group_id")}
        || ',"ownerOrgId":' || {_uuid_sql("owner_org_id")}
    ELSE
        ',"operation":"REMOVE","reason":' || CASE WHEN audience_org_id IS NULL
            THEN '"{VISIBILITY_LOWERED}"' ELSE coalesce(to_json(reason)::text, 'null') END
        || ',"occurredAt":"' || {_AT_SQL}
        || '","distribution":null,"tlp":null,"workingGroupId":null,"ownerOrgId":null'
    END || '}}'"""


def _literal_sql(clause: Any) -> str:
    return str(clause.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def postgres_feed_sql(
    viewer: Viewer,
    *,
    after: int,
    limit: int,
    kinds: Sequence[str] | None,
    group_ids: Sequence[uuid.UUID] | None,
) -> str:
    """The SELECT whose single text column is the feed's lines, in log order: the policy's
    predicate compiled to SQL text (no parameters: it runs inside COPY)."""
    stmt = (
        select(literal_column(postgres_line_sql(viewer)))
        .select_from(ChangeLogEntry.__table__)
        .where(
            feed_predicate(viewer, repo.FEED_COLUMNS, working_group_ids=group_ids or None),
            ChangeLogEntry.seq > after,
        )
        .order_by(ChangeLogEntry.seq)
        .limit(limit)
    )
    if kinds:
        stmt = stmt.where(ChangeLogEntry.kind.in_(kinds))
    return _literal_sql(stmt)


# COPY's CSV format with a quote and delimiter that compact JSON never holds writes each value
# as it is: no quoting, no escaping, one line per row.
COPY_OPTIONS: dict[str, Any] = {"format": "csv", "delimiter": "\x02", "quote": "\x01"}


async def copy_out(session: AsyncSession, sql: str) -> AsyncIterator[bytes]:
    """``COPY (sql) TO STDOUT`` on the session's connection, as it arrives.

    A consumer that stops early (a client hanging up) does not cancel the COPY, which would
    leave the driver's connection broken: the rest is read and dropped (a page is at most
    ``MAX_LIMIT`` rows), shielded from cancellation, before the session may close."""
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(maxsize=32)
    dropping = False

    async def sink(data: bytes) -> None:
        if not dropping:
            await queue.put(bytes(data))

    async def run() -> None:
        try:
            await raw.copy_from_query(sql, output=sink, **COPY_OPTIONS)
        except BaseException as exc:
            if not dropping:
                await queue.put(exc)
            raise
        if not dropping:
            await queue.put(None)

    task = asyncio.create_task(run())
    try:
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        if not task.done():
            dropping = True
            while not queue.empty():
                queue.get_nowait()
            with anyio.CancelScope(shield=True):
                await asyncio.gather(task, return_exceptions=True)


async def postgres_chunks(
    session: AsyncSession,
    viewer: Viewer,
    query: FeedQuery,
    group_ids: Sequence[uuid.UUID] | None,
) -> AsyncIterator[bytes]:
    head = await changelog.head(session)
    # One row more than asked for says whether there are more; it is never sent.
    sql = postgres_feed_sql(
        viewer, after=query.after, limit=query.limit + 1, kinds=query.kinds, group_ids=group_ids
    )
    pending, out, size = b"", [], 0
    emitted, last, has_more = 0, b"", False
    async for data in copy_out(session, sql):
        if has_more:
            continue  # the extra row: drained, not sent
        buffer = pending + data if pending else data
        end = buffer.rfind(b"\n")
        if end < 0:
            pending = buffer
            continue
        complete, pending = buffer[: end + 1], buffer[end + 1 :]
        lines = complete.count(b"\n")
        if emitted + lines > query.limit:
            position = -1
            for _ in range(query.limit - emitted):
                position = complete.index(b"\n", position + 1)
            complete, lines, has_more = complete[: position + 1], query.limit - emitted, True
        if lines:
            last = complete[complete.rfind(b"\n", 0, len(complete) - 1) + 1 :]
            emitted += lines
            out.append(complete)
            size += len(complete)
        if size >= FLUSH_BYTES:
            yield b"".join(out)
            out, size = [], 0
    if out:
        yield b"".join(out)
    seq = int(found.group(1)) if (found := _SEQ.search(last)) else query.after
    yield end_line(seq if has_more else max(query.after, seq, head), has_more)


# --- following the log live ----------------------------------------------------------------

POLL_SECONDS = 0.5
FOLLOW_BATCH = 500


class TokenEnded(Exception):
    """The token a live stream was opened with expired or was revoked: the stream ends."""


async def _still_valid(
    sessions: async_sessionmaker[AsyncSession], principal: Principal | None
) -> None:
    if principal is None:
        return
    if principal.expires_at is not None and time.time() >= principal.expires_at:
        raise TokenEnded("the access token has expired; reconnect with a new one")
    if await token_revoked(sessions, principal.token_id):
        raise TokenEnded("the access token has been revoked")


async def follow(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal | None,
    *,
    after: int = 0,
    kinds: Sequence[str] | None = None,
    working_groups: Sequence[str] | None = None,
    poll_seconds: float = POLL_SECONDS,
) -> AsyncIterator[tuple[Viewer, list[ChangeLogEntry]]]:
    """The feed after ``after``, replayed and then followed as it grows (polled every
    ``poll_seconds``, on SQLite and PostgreSQL alike); each batch with the viewer it was
    read as. Each poll is a short session of its own, and reloads the viewer: a seat that
    ends takes its groups' changes with it at once (and its removals arrive). Each poll
    also checks the token again: once it expires or is revoked, :class:`TokenEnded`."""
    cursor = after
    while True:
        await _still_valid(sessions, principal)
        async with sessions() as session:
            viewer = await load_viewer(session, principal)
            group_ids = await working_group_ids(session, working_groups)
            head = await changelog.head(session)
            page = await repo.page_visible_changes(
                session,
                viewer,
                kinds=kinds or None,
                working_group_ids=group_ids,
                after=cursor,
                limit=FOLLOW_BATCH,
            )
        if page.items:
            cursor = page.items[-1].seq
            yield viewer, page.items
        if not page.has_next_page:
            cursor = max(cursor, head)  # past what this viewer cannot see: never rescanned
            await asyncio.sleep(poll_seconds)
