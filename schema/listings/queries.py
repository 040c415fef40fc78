from __future__ import annotations

import strawberry
from strawberry.types import Info

from alliance.listings import service
from alliance.listings.counting import ListingCounts
from alliance.listings.listing import parse_listing
from alliance.listings.matcher import Matcher
from schema.errors import PublicError
from schema.listings.types import ListingCheck, ListingInput
from schema.permissions import query_field, scopes

CHECK = scopes("listings:check", "admin")


def _matcher(info: Info) -> Matcher:
    follower = getattr(info.context.request.app.state, "listing_matcher", None)
    if follower is None:
        raise PublicError("the listing matcher is not running in this process", "UNAVAILABLE")
    return follower.matcher  # type: ignore[no-any-return]


def _counts(info: Info) -> ListingCounts | None:
    return getattr(info.context.request.app.state, "listing_counts", None)


@strawberry.type
class ListingsQuery:
    @query_field(
        CHECK,
        description=(
            "Check one listing against the rules, indicators and allowlists you may see: a "
            "verdict, a score and the matches that explain it."
        ),
    )
    async def check_listing(self, info: Info, listing: ListingInput) -> ListingCheck:
        viewer = await info.context.loaders.viewer.load(info.context.principal)
        parsed = parse_listing(listing.to_mapping(), path=("listing",))
        return ListingCheck.of(
            service.check_listings(_matcher(info), viewer, [parsed], _counts(info))[0]
        )

    @query_field(CHECK, description="Check up to 1,000 listings at once, in the order given.")
    async def check_listings(self, info: Info, listings: list[ListingInput]) -> list[ListingCheck]:
        viewer = await info.context.loaders.viewer.load(info.context.principal)
        parsed = service.parse_batch([item.to_mapping() for item in listings])
        matcher = _matcher(info)
        return [
            ListingCheck.of(result)
            for result in service.check_listings(matcher, viewer, parsed, _counts(info))
        ]
