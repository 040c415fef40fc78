"""The HTTP surface around GraphQL: health, readiness, metrics, request ids and structured logs."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from alliance import migrate
from alliance.changelog.models import ChangeLogEntry
from alliance.config import load_settings
from alliance.observability.context import begin_request, end_request, set_actor
from alliance.observability.logging import JsonFormatter

GROUPS = "query Groups { workingGroups { totalCount } }"
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


def metric_samples(text: str) -> dict[str, Any]:
    """Families by name, checking the exposition parses as Prometheus text."""
    return {family.name: family for family in text_string_to_metric_families(text)}


def sample_value(family: Any, name: str, **labels: str) -> float | None:
    for sample in family.samples:
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
            return sample.value
    return None


@asynccontextmanager
async def app_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://alliance.test") as c:
            yield c


# --- health and readiness ---------------------------------------------------------------------


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_database_broker_and_search(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    database = body["checks"]["database"]
    assert database["status"] == "ok"
    assert database["revision"] == migrate.current_head()
    assert database["expected_revision"] == migrate.current_head()
    assert isinstance(database["change_log_head"], int)
    assert body["checks"]["broker"]["kind"] == "embedded"
    assert body["checks"]["search"]["backend"] == "tantivy"
    assert body["checks"]["search"]["status"] == "ok"


async def test_readyz_reports_a_broken_search_index_instead_of_failing(
    settings, sessions, job_sender, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alliance.app import create_app

    (tmp_path / "a-file").write_text("not a directory")
    monkeypatch.setenv("ALLIANCE_SEARCH_URL", f"tantivy://{tmp_path / 'a-file' / 'index'}")
    app = create_app(load_settings(), sessions=sessions, job_sender=job_sender)
    async with app_client(app) as client:
        response = await client.get("/readyz")

    assert response.status_code == 200, "search is reported; only the database gates readiness"
    search = response.json()["checks"]["search"]
    assert search["status"] == "down"
    assert search["backend"] == "tantivy"
    assert "Not a directory" in search["error"]


# --- metrics ----------------------------------------------------------------------------------


async def test_metrics_count_graphql_operations_by_name(
    client: httpx.AsyncClient, demo, issue_token, session
) -> None:
    token = issue_token(demo["orgs"]["alliance-office"], "admin")
    for _ in range(2):
        response = await client.post(
            "/graphql",
            json={"query": GROUPS, "operationName": "Groups"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200
        assert response.json()["data"]["workingGroups"]["totalCount"] == 3
    assert (await client.get("/healthz")).status_code == 200

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = metric_samples(response.text)

    requests = families["alliance_requests"]
    assert requests.type == "counter"
    graphql = {"operation": "graphql query Groups", "status": "200"}
    assert sample_value(requests, "alliance_requests_total", **graphql) == 2
    healthz = {"operation": "GET /healthz", "status": "200"}
    assert sample_value(requests, "alliance_requests_total", **healthz) == 1

    latency = families["alliance_request_duration_seconds"]
    assert latency.type == "histogram"
    by_operation = {"operation": "graphql query Groups"}
    assert sample_value(latency, "alliance_request_duration_seconds_count", **by_operation) == 2
    inf = sample_value(
        latency, "alliance_request_duration_seconds_bucket", le="+Inf", **by_operation
    )
    assert inf == 2
    assert sample_value(latency, "alliance_request_duration_seconds_sum", **by_operation) > 0

    max_seq = await session.scalar(select(func.max(ChangeLogEntry.seq)))
    assert max_seq is not None, "the demo writes change-log rows"
    head = families["alliance_change_log_head"]
    assert head.type == "gauge"
    assert sample_value(head, "alliance_change_log_head") == max_seq

    assert "alliance_worker_heartbeat_age_seconds" in families
    assert "alliance_jobs_sent" in families


async def test_anonymous_operation_is_labelled_anonymous(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ workingGroups { totalCount } }"})
    assert response.status_code == 200
    families = metric_samples((await client.get("/metrics")).text)
    labels = {"operation": "graphql query anonymous", "status": "200"}
    assert sample_value(families["alliance_requests"], "alliance_requests_total", **labels) == 1


async def test_metrics_of_two_apps_are_independent(app, settings, sessions, job_sender) -> None:
    from alliance.app import create_app

    other = create_app(settings, sessions=sessions, job_sender=job_sender)
    async with app_client(other) as client:
        await client.get("/healthz")
        families = metric_samples((await client.get("/metrics")).text)
    assert sample_value(families["alliance_requests"], "alliance_requests_total") == 1


# --- request ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/.well-known/jwks.json"),
        ("GET", "/no-such-page"),
        ("POST", "/graphql"),
    ],
)
async def test_every_response_carries_a_request_id(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    body = {"query": "{ workingGroups { totalCount } }"} if method == "POST" else None
    first = await client.request(method, path, json=body)
    second = await client.request(method, path, json=body)
    assert GENERATED_ID.match(first.headers["x-request-id"])
    assert GENERATED_ID.match(second.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_rejected_token_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": GROUPS},
        headers={"Authorization": "Bearer not-a-token", "X-Request-ID": "req-401-00001"},
    )
    assert response.status_code == 401
    assert response.headers["x-request-id"] == "req-401-00001"


@pytest.mark.parametrize(
    "request_id", ["req-12345678", "0123456789abcdef", "a.b_c-d.e_f-g", "x" * 64]
)
async def test_valid_caller_request_id_is_echoed(
    client: httpx.AsyncClient, request_id: str
) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": request_id})
    assert response.headers["x-request-id"] == request_id


@pytest.mark.parametrize(
    "request_id", ["short", "x" * 65, "has space-in-it", "semi;colon12", "line\tbreak123", ""]
)
async def test_invalid_caller_request_id_is_replaced(
    client: httpx.AsyncClient, request_id: str
) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": request_id})
    assert GENERATED_ID.match(response.headers["x-request-id"])


class JsonLines(logging.Handler):
    """Formats each record as it is emitted, i.e. inside the request's context."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


async def test_unexpected_error_is_masked_logged_and_carries_the_request_id(
    app, client: httpx.AsyncClient
) -> None:
    async def explode() -> None:
        raise RuntimeError("database password is hunter2")

    app.add_api_route("/test-only/explode", explode)
    captured = JsonLines()
    logger = logging.getLogger("alliance.http")
    logger.addHandler(captured)
    try:
        response = await client.get("/test-only/explode", headers={"X-Request-ID": "req-boom-0001"})
    finally:
        logger.removeHandler(captured)

    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-boom-0001"
    assert response.json() == {"error": "internal_error", "request_id": "req-boom-0001"}
    assert "hunter2" not in response.text
    [entry] = captured.lines
    assert entry["level"] == "error"
    assert entry["request_id"] == "req-boom-0001"
    assert "RuntimeError: database password is hunter2" in entry["exception"]

    families = metric_samples((await client.get("/metrics")).text)
    labels = {"operation": "GET /test-only/explode", "status": "500"}
    assert sample_value(families["alliance_requests"], "alliance_requests_total", **labels) == 1


# --- structured logs --------------------------------------------------------------------------


def make_record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("alliance.test", logging.WARNING, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return record


def test_json_log_line_carries_the_request_context() -> None:
    _, token = begin_request("req-12345678")
    try:
        set_actor("person:42@acme-motors")
        line = JsonFormatter().format(make_record("imported %d rows", 7, batch="b-1"))
    finally:
        end_request(token)

    entry = json.loads(line)
    assert entry["request_id"] == "req-12345678"
    assert entry["actor"] == "person:42@acme-motors"
    assert entry["level"] == "warning"
    assert entry["message"] == "imported 7 rows"
    assert entry["logger"] == "alliance.test"
    assert entry["batch"] == "b-1", "extra fields are kept"
    assert entry["ts"].endswith("+00:00")
    assert "\n" not in line


def test_json_log_line_outside_a_request_has_no_request_id() -> None:
    entry = json.loads(JsonFormatter().format(make_record("idle")))
    assert "request_id" not in entry
    assert "actor" not in entry
    assert entry["message"] == "idle"


def test_json_log_line_includes_the_traceback() -> None:
    try:
        raise ValueError("bad row")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "alliance.test", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "error"
    assert "ValueError: bad row" in entry["exception"]
