"""Local accounts for the demo people, so a newcomer can sign in to the portal."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.auth import repository as auth_repo
from alliance.auth import service as auth_service

DEMO_PASSWORD = "alliance-demo-password"
# The people who administer their organisation in the demo (the operator runs the instance).
DEMO_ORG_ADMINS = ("operator@alliance-office.example", "analyst@acme-motors.example")


async def seed_demo_accounts(session: AsyncSession, password: str, created: list[str]) -> int:
    """Give each demo person without a password this one; returns how many already had one."""
    from alliance.demo import PEOPLE

    def work(sync_session) -> tuple[list[str], int]:  # type: ignore[no-untyped-def]
        made, existing = [], 0
        for _org, email, _name in PEOPLE:
            person = auth_repo.person_by_email(sync_session, email)
            if person is None:
                continue
            if person.password_hash:
                existing += 1
                continue
            auth_service.set_local_account(
                sync_session,
                None,
                person.id,
                password=password,
                org_admin=email in DEMO_ORG_ADMINS,
            )
            made.append(f"sign-in account {email}")
        return made, existing

    made, existing = await session.run_sync(work)
    created.extend(made)
    return existing
