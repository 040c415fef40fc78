"""Deterministic STIX identifiers: ``type--uuid5(instance namespace, "kind/object id")``, so the
same object always has the same id on one instance, and two instances never share one."""

from __future__ import annotations

import uuid

# The namespace of Alliance instances; an instance's own namespace is derived from its URL.
ALLIANCE_NAMESPACE = uuid.UUID("5d3f8f8e-3c1a-4f0e-9a57-2b7f0c6a9e11")


def instance_namespace(instance_url: str) -> uuid.UUID:
    return uuid.uuid5(ALLIANCE_NAMESPACE, instance_url.rstrip("/"))


def stix_id(namespace: uuid.UUID, stix_type: str, kind: str, object_id: object) -> str:
    return f"{stix_type}--{uuid.uuid5(namespace, f'{kind}/{object_id}')}"
