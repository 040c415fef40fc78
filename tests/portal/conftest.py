"""The portal on a real uvicorn (the authorization server's live instance, demo-seeded)."""

from __future__ import annotations

from tests.alliance.auth.conftest import Alliance, alliance  # noqa: F401  (the fixture)

ANALYST = "analyst@acme-motors.example"
INVESTIGATOR = "investigator@city-police.example"
__all__ = ["ANALYST", "INVESTIGATOR", "Alliance"]
