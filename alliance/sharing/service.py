"""Loading the sharing policy's view of a caller (the policy itself is pure: see ``policy``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.auth.principal import Principal
from alliance.orgs import repository as orgs_repo
from alliance.sharing.policy import Seat, Viewer, ViewerKind


async def load_viewer(session: AsyncSession, principal: Principal | None) -> Viewer:
    """The viewer for ``principal``: its organisation and that organisation's seats now.

    Seats are read at each request, so a membership that ends takes its access with it at
    once. Callers cache the result for the request (and drop it after a write).
    """
    seatless = Viewer.for_principal(principal, ())
    if principal is None or seatless.kind != ViewerKind.MEMBER:
        return seatless  # anonymous callers and peers hold no seats: no query
    memberships = await orgs_repo.memberships_of_organisation(session, principal.organisation_id)
    return Viewer.for_principal(principal, (Seat(m.working_group_id, m.role) for m in memberships))
