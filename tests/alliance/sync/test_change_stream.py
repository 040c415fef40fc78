"""changeStream over graphql-transport-ws against a real uvicorn: the replay from a cursor,
then live changes, and never a change the subscriber may not see."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import jwt
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from alliance.auth import repository as auth_repo
from alliance.changelog.models import VISIBILITY_LOWERED, Operation
from alliance.db import unit_of_work, utcnow
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import Visibility
from tests.alliance.sync.live import live_server, unique
from tests.conftest import BACKENDS

PROTOCOL = "graphql-transport-ws"
STREAM = """
subscription ($after: String, $kinds: [String!]) {
  changeStream(after: $after, kinds: $kinds) {
    cursor seq kind objectId version operation reason distribution tlp
  }
}
"""
# Generous: a message that never comes fails the test, one that comes ends the wait at once.
RECEIVE_TIMEOUT = 20


@pytest.fixture(params=BACKENDS)
async def server(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Any:
    async with live_server(request.param, tmp_path, monkeypatch) as live:
        yield live


async def receive(ws: ClientConnection) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT))
    while message["type"] == "ping":
        await ws.send(json.dumps({"type": "pong"}))
        message = json.loads(await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT))
    return message  # type: ignore[no-any-return]


async def open_stream(
    url: str, token: str | None, variables: dict[str, Any], *, header: bool = False
) -> ClientConnection:
    headers = {"Authorization": f"Bearer {token}"} if token and header else None
    ws = await connect(url, subprotocols=[PROTOCOL], additional_headers=headers)  # type: ignore[list-item]
    payload = {"Authorization": f"Bearer {token}"} if token and not header else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    assert (await receive(ws))["type"] == "connection_ack"
    await ws.send(
        json.dumps(
            {"id": "1", "type": "subscribe", "payload": {"query": STREAM, "variables": variables}}
        )
    )
    return ws


def stream_errors(message: dict[str, Any]) -> list[dict[str, Any]]:
    """A subscription refused before its first event ends with an ``error`` message; one
    refused later, with a ``next`` carrying errors."""
    if message["type"] == "error":
        return message["payload"]  # type: ignore[no-any-return]
    assert message["type"] == "next", message
    assert message["payload"].get("data") is None, message
    return message["payload"]["errors"]  # type: ignore[no-any-return]


async def next_change(ws: ClientConnection) -> dict[str, Any]:
    message = await receive(ws)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    return message["payload"]["data"]["changeStream"]  # type: ignore[no-any-return]


async def test_the_stream_replays_from_the_cursor_then_follows_live_changes(server: Any) -> None:
    acme = server.orgs["acme-motors"].id
    kind = "streamtest.a"
    first, second, hidden = unique("first"), unique("second"), unique("hidden")

    def public(object_id: str) -> dict[str, Any]:
        return {
            "kind": kind,
            "object_id": object_id,
            "distribution": Distribution.ALLIANCE,
            "tlp": TLP.GREEN,
            "owner_org_id": acme,
        }

    secret = {
        "kind": kind,
        "object_id": hidden,
        "distribution": Distribution.ORGANISATION,
        "tlp": TLP.RED,
        "owner_org_id": acme,
    }
    await server.write(public(first))
    await server.write(secret)
    await server.write(public(second))
    token = server.token("luxe-house", "sync:read")

    ws = await open_stream(server.ws, token, {"kinds": [kind]})
    try:
        replayed = [await next_change(ws), await next_change(ws)]
        assert [c["objectId"] for c in replayed] == [first, second]
        assert replayed[0]["seq"] < replayed[1]["seq"]
        # Live: a change hidden from the subscriber, then ones it sees. Were the hidden one
        # sent, it would arrive before them.
        live = unique("live")
        await server.write(secret | {"object_id": unique("hidden-live")})
        await server.write(public(live))
        assert (await next_change(ws))["objectId"] == live
        await server.write(
            public(first)
            | {
                "version": 2,
                "operation": Operation.UPDATE,
                "distribution": Distribution.ORGANISATION,
                "tlp": TLP.AMBER,
                "previous": Visibility(acme, None, Distribution.ALLIANCE, TLP.GREEN),
            }
        )
        removal = await next_change(ws)
        assert (removal["objectId"], removal["operation"], removal["reason"]) == (
            first,
            "REMOVE",
            VISIBILITY_LOWERED,
        )
        assert (removal["distribution"], removal["tlp"]) == (None, None)
        await ws.send(json.dumps({"id": "1", "type": "complete"}))
    finally:
        await ws.close()

    # Resuming after the first replayed change starts at the second; a token on the upgrade
    # request works as well as one in connection_init.
    ws = await open_stream(
        server.ws, token, {"kinds": [kind], "after": replayed[0]["cursor"]}, header=True
    )
    try:
        seen = [(await next_change(ws))["objectId"] for _ in range(3)]
        assert seen == [second, live, first]
    finally:
        await ws.close()


async def test_the_owner_sees_its_own_hidden_changes_on_the_stream(server: Any) -> None:
    acme = server.orgs["acme-motors"].id
    hidden = unique("own")
    await server.write(
        {
            "kind": "streamtest.b",
            "object_id": hidden,
            "distribution": Distribution.ORGANISATION,
            "tlp": TLP.RED,
            "owner_org_id": acme,
        }
    )
    ws = await open_stream(
        server.ws, server.token("acme-motors", "sync:read"), {"kinds": ["streamtest.b"]}
    )
    try:
        change = await next_change(ws)
        assert (change["objectId"], change["tlp"]) == (hidden, "RED")
    finally:
        await ws.close()


async def test_the_stream_needs_the_sync_scope_and_a_valid_token(server: Any) -> None:
    for token in (None, server.token("luxe-house", "rules:read")):
        ws = await open_stream(server.ws, token, {})
        try:
            codes = [e["extensions"]["code"] for e in stream_errors(await receive(ws))]
            assert codes == ["UNAUTHENTICATED" if token is None else "FORBIDDEN"]
        finally:
            await ws.close()
    ws = await connect(server.ws, subprotocols=[PROTOCOL])  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer x"}}))
    with pytest.raises(ConnectionClosed) as closed:
        await receive(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_bad_stream_arguments_are_refused(server: Any) -> None:
    ws = await open_stream(
        server.ws, server.token("luxe-house", "sync:read"), {"after": "nonsense"}
    )
    try:
        errors = stream_errors(await receive(ws))
        assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]
        assert errors[0]["extensions"]["fields"][0]["code"] == "INVALID_CURSOR"
    finally:
        await ws.close()


async def test_the_stream_ends_when_its_token_expires(server: Any) -> None:
    # Checked on every poll, not only at connection: a stream never outlives its token.
    ws = await open_stream(server.ws, server.token("luxe-house", "sync:read", ttl_seconds=2), {})
    try:
        message = await receive(ws)
        while message["type"] == "next" and "errors" not in message["payload"]:
            message = await receive(ws)  # the replay, if any, comes first
        errors = stream_errors(message)
        assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"]
        assert "expired" in errors[0]["message"]
    finally:
        await ws.close()


async def test_the_stream_ends_when_its_token_is_revoked(server: Any) -> None:
    token = server.token("luxe-house", "sync:read")
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    kind = unique("revoked").replace("-", ".")
    ws = await open_stream(server.ws, token, {"kinds": [kind]})
    try:
        await server.write(
            {
                "kind": kind,
                "object_id": unique("before"),
                "distribution": Distribution.ALLIANCE,
                "tlp": TLP.GREEN,
            }
        )
        assert (await next_change(ws))["kind"] == kind
        async with unit_of_work(server.sessions) as session:
            await session.run_sync(lambda s: auth_repo.revoke_jti(s, jti, utcnow()))
        await server.write(
            {
                "kind": kind,
                "object_id": unique("after"),
                "distribution": Distribution.ALLIANCE,
                "tlp": TLP.GREEN,
            }
        )
        errors = stream_errors(await receive(ws))
        assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"]
        assert "revoked" in errors[0]["message"]
    finally:
        await ws.close()
