from __future__ import annotations

import strawberry
from strawberry.types import Info

from alliance.audit import service
from alliance.errors import FieldProblem, InvalidInput
from schema.audit.types import AuditEntry
from schema.permissions import query_field, scopes
from schema.relay import Connection, build_connection, decode_cursor, from_global_id, page_size


def _seq_cursor(after: str | None) -> int | None:
    raw = decode_cursor(after)
    if raw is None:
        return None
    if not raw.isdigit():
        raise InvalidInput([FieldProblem(("after",), "INVALID_CURSOR", "is not a valid cursor")])
    return int(raw)


@strawberry.type
class AuditQuery:
    @query_field(
        scopes(service.ORG_ADMIN_SCOPE, service.OPERATOR_SCOPE),
        description=(
            "The audit log, newest first. Operators read every entry (optionally one "
            "organisation's); organisation admins read their own organisation's entries only."
        ),
    )
    async def audit_log(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        organisation_id: strawberry.ID | None = None,
        actions: list[str] | None = None,
    ) -> Connection[AuditEntry]:
        session = info.context.session
        limit = page_size(first, info.context.settings.graphql.max_page_size)
        before = _seq_cursor(after)
        org_id = (
            from_global_id(organisation_id, "organisationId", "Organisation")[1]
            if organisation_id is not None
            else None
        )
        entry_filter = service.visible_entries(
            info.context.principal, organisation_id=org_id, actions=actions or None
        )
        page = await service.page_entries(session, entry_filter, before=before, limit=limit)

        async def count() -> int:
            return await service.count_entries(session, entry_filter)

        return build_connection(
            [AuditEntry.from_model(e) for e in page.items],
            [str(e.seq) for e in page.items],
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            count=count,
        )
