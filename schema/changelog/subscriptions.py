from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from alliance.changelog.service import as_seen_by
from alliance.errors import InvalidInput
from alliance.sync import feed
from schema.changelog.queries import seq_cursor
from schema.changelog.types import Change
from schema.errors import PublicError, bad_input
from schema.permissions import scopes, subscription_field


@strawberry.type
class ChangelogSubscription:
    @subscription_field(
        scopes("sync:read", "federation"),
        description=(
            "The change feed, live: replays the changes after `after` (from the start without "
            "it) in log order, then each new one as it commits, filtered by the sharing model "
            "as `changes` is (REMOVE entries included). Resume a dropped stream from the last "
            "change's `cursor`. Over graphql-transport-ws at /graphql; send the access token "
            "as the connection_init payload's `Authorization` (or on the upgrade request)."
        ),
    )
    async def change_stream(
        self,
        info: Info,
        after: str | None = None,
        kinds: list[str] | None = None,
        working_groups: list[str] | None = None,
    ) -> AsyncGenerator[Change, None]:
        try:
            cursor = seq_cursor(after) or 0
            problems = feed.name_problems("kinds", kinds or [], feed.KIND)
            problems += feed.name_problems("workingGroups", working_groups or [], feed.SLUG)
            if problems:
                raise InvalidInput(problems)
            stream = feed.follow(
                info.context.sessions,
                info.context.principal,
                after=cursor,
                kinds=kinds,
                working_groups=working_groups,
            )
            async for viewer, entries in stream:
                for entry in entries:
                    yield Change.from_model(entry, as_seen_by(viewer, entry))
        except InvalidInput as exc:
            raise bad_input(exc) from exc
        except feed.TokenEnded as exc:
            raise PublicError(str(exc), "UNAUTHENTICATED") from exc
