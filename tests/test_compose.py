"""docker-compose.yml is valid against the Compose Specification and wires the stack.

No Docker engine runs on these machines, so the file is checked against the published
JSON schema at ``../shared/compose/compose-spec.json`` instead.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema.validators import validator_for

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SPEC_FILE = ROOT.parent / "shared" / "compose" / "compose-spec.json"

APP_SERVICES = ("api", "worker", "beat")
BACKING_SERVICES = ("postgres", "redis", "elasticsearch")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC_FILE.is_file():
        pytest.skip(
            "../shared/compose/compose-spec.json is absent (a user's clone has no ../shared)"
        )
    return json.loads(SPEC_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict), "docker-compose.yml must be a mapping"
    return document


def _validator(spec: dict[str, Any]) -> Any:
    # compose-spec declares "$schema": "https://json-schema.org/draft-07/schema", but
    # jsonschema registers drafts 3-7 under http:// (and without the trailing "#"), so
    # the raw value is not recognised and would silently fall back to the latest draft.
    uri = str(spec.get("$schema", "")).rstrip("#")
    if uri.startswith("https://json-schema.org/draft-0"):
        uri = "http://" + uri.removeprefix("https://")
    cls = validator_for({"$schema": uri}, default=None)
    assert cls is not None, f"no jsonschema validator for $schema {spec.get('$schema')!r}"
    cls.check_schema(spec)
    return cls(spec)


def _errors(spec: dict[str, Any], document: dict[str, Any]) -> list[str]:
    errors = sorted(_validator(spec).iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def test_compose_file_matches_the_compose_specification(
    spec: dict[str, Any], compose: dict[str, Any]
) -> None:
    assert "version" not in compose, "the top-level `version:` key is obsolete"
    errors = _errors(spec, compose)
    assert not errors, "docker-compose.yml violates the Compose Specification:\n" + "\n".join(
        errors
    )


def test_compose_wires_the_services_together(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in APP_SERVICES + BACKING_SERVICES:
        assert name in services, f"service {name!r} is missing"

    for name in ("api", *BACKING_SERVICES):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"

    for name in APP_SERVICES:
        service = services[name]
        depends_on = service.get("depends_on")
        assert isinstance(depends_on, dict), f"{name}: depends_on must use the long form"
        for dependency in ("postgres", "redis"):
            assert depends_on.get(dependency, {}).get("condition") == "service_healthy", (
                f"{name} must wait for {dependency} to be healthy"
            )

        env = _environment(service)
        for variable, host in (
            ("ALLIANCE_DATABASE_URL", "@postgres:"),
            ("ALLIANCE_BROKER_URL", "://redis:"),
            ("ALLIANCE_SEARCH_URL", "://elasticsearch:"),
        ):
            assert variable in env, f"{name}: {variable} is not set"
            assert host in env[variable], f"{name}: {variable}={env[variable]!r} misses {host}"

        assert any(
            str(volume).split(":")[:2] == ["alliance-data", "/data"]
            for volume in service.get("volumes", [])
        ), f"{name} must mount the shared alliance-data volume at /data"

    assert "alliance-data" in compose.get("volumes", {})


def test_the_schema_rejects_a_broken_document(
    spec: dict[str, Any], compose: dict[str, Any]
) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["api"]["ports"] = 5
    errors = _errors(spec, broken)
    assert errors, "the schema accepted services.api.ports: 5"
    assert any(error.startswith("services/api/ports") for error in errors), errors
