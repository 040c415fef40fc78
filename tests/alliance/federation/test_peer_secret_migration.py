"""Revision 0015 on both databases: the secret column widens to hold sealed values longer
than any plaintext, and going back opens every sealed secret with the instance's key, since
the code before it reads the column as plaintext."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from alliance import migrate
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.federation import sealing
from alliance.federation import service as federation
from tests.conftest import BACKENDS, create_fresh_database


@pytest.fixture
def sealing_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The instance's key in the environment, where the downgrade finds it as the app does."""
    for key in list(os.environ):
        if key.startswith("ALLIANCE_") and not key.startswith("ALLIANCE_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ALLIANCE_DATA_DIR", str(tmp_path / "var"))
    key = sealing.generate_key()
    monkeypatch.setenv("ALLIANCE_FEDERATION_SEALING_KEY", key)
    return key


@pytest.mark.parametrize("backend_name", BACKENDS)
async def test_downgrade_unseals_and_upgrade_keeps_plaintext_readable(
    backend_name: str, tmp_path: Path, sealing_env: str
) -> None:
    from cryptography.fernet import Fernet

    url, drop = await create_fresh_database(backend_name, tmp_path)
    engine = make_engine(url)
    # As long as the CLI allows: its sealed form is longer than the old column.
    secret = "s" * 500
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        async with unit_of_work(make_sessionmaker(engine)) as session:
            await federation.add_peer(
                session,
                None,
                federation.PeerData(
                    name="far", base_url="https://far.example", client_id="c", client_secret=secret
                ),
                sealing_key=Fernet(sealing_env),
            )

        async def stored() -> str:
            # The migrations change the table under the pool's cached statements: start afresh.
            await engine.dispose()
            async with engine.connect() as conn:
                value = await conn.scalar(
                    text("SELECT client_secret FROM peers WHERE name = 'far'")
                )
            return str(value)

        sealed = await stored()
        assert len(sealed) > 500
        assert secret not in sealed

        await asyncio.to_thread(migrate.downgrade, url, "0014")
        assert await stored() == secret

        await asyncio.to_thread(migrate.upgrade, url)
        plain = await stored()
        assert plain == secret
        assert sealing.unseal(Fernet(sealing_env), plain) == secret
    finally:
        await engine.dispose()
        if drop:
            await drop()
