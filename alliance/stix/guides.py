"""Identification guides as STIX 2.1 objects (pure: plain data in, JSON-ready dicts out).

A guide travels as an extension-defined object type (``alliance-identification-guide``, a
``new-sdo`` the instance's extension definition describes), like banned-category rules. Not a
``report``: a report must name at least one object in ``object_refs``, and a guide need not
have a tell compiled into an indicator the reader may see; nor does the ``report-type-ov``
vocabulary have a guide type. The object is the guide's latest published version, its content
already cut to what the reader may see (covert and forensic features absent, not redacted).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alliance.sharing import TLP
from alliance.stix.conversion import SPEC_VERSION, indicator_id, organisation_id, timestamp
from alliance.stix.extensions import GUIDE_TYPE, Instance
from alliance.stix.ids import stix_id
from alliance.stix.markings import marking_id

ARCHIVED = "ARCHIVED"
IDENTITY_PROPERTIES = ("brands", "product_lines", "category_id", "gtins")
SECTION_PROPERTIES = (
    "rights", "contacts", "features", "packaging", "labels", "serial_formats", "supply_chain",
    "price_guidance", "test_buy_notes",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class GuideData:
    """A published guide: its identity and its version's content as the reader may see it."""

    id: uuid.UUID
    title: str
    owner_org_id: uuid.UUID
    working_group_slug: str | None
    distribution: str
    tlp: TLP
    status: str
    language: str
    version_number: int
    published_at: datetime
    content: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime
    # The assertions the shown tells compiled into that the reader may see.
    indicator_ids: tuple[uuid.UUID, ...] = ()

    @classmethod
    def of(
        cls,
        guide: Any,
        version: Any,
        content: Mapping[str, Any],
        *,
        working_group_slug: str | None,
        indicator_ids: Sequence[uuid.UUID] = (),
    ) -> GuideData:
        return cls(
            id=guide.id,
            title=str(content.get("title") or guide.title),
            owner_org_id=guide.owner_org_id,
            working_group_slug=working_group_slug,
            distribution=str(getattr(guide.distribution, "value", guide.distribution)),
            tlp=TLP(getattr(guide.tlp, "value", guide.tlp)),
            status=str(getattr(guide.status, "value", guide.status)),
            language=guide.source_language,
            version_number=version.number,
            published_at=version.published_at,
            content=content,
            created_at=guide.created_at,
            updated_at=guide.updated_at,
            indicator_ids=tuple(indicator_ids),
        )


def guide_id(instance: Instance, guide: uuid.UUID) -> str:
    return stix_id(instance.namespace, GUIDE_TYPE, "guide", guide)


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _clean(value: Any) -> Any:
    # STIX properties are absent rather than null or empty.
    if isinstance(value, Mapping):
        cleaned = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if _present(v)}
    if isinstance(value, list | tuple):
        return [c for c in (_clean(v) for v in value) if _present(c)]
    return value


def guide_object(instance: Instance, data: GuideData) -> dict[str, Any]:
    created = timestamp(data.created_at)
    content = data.content
    obj: dict[str, Any] = {
        "type": GUIDE_TYPE,
        "spec_version": SPEC_VERSION,
        "id": guide_id(instance, data.id),
        "created_by_ref": organisation_id(instance, data.owner_org_id),
        "created": created,
        "modified": max(created, timestamp(data.updated_at)),
        "name": data.title,
        "lang": data.language,
        "status": data.status,
        "guide_version": data.version_number,
        "published": timestamp(data.published_at),
        "distribution": data.distribution,
        "revoked": data.status == ARCHIVED,
        "object_marking_refs": [marking_id(data.tlp)],
        "extensions": {instance.extension_id(GUIDE_TYPE): {"extension_type": "new-sdo"}},
    }
    if content.get("summary"):
        obj["description"] = content["summary"]
    if data.working_group_slug:
        obj["working_group"] = data.working_group_slug
    for name in IDENTITY_PROPERTIES:
        if _present(content.get(name)):
            obj[name] = _clean(content[name])
    if data.indicator_ids:
        obj["indicator_refs"] = sorted({indicator_id(instance, a) for a in data.indicator_ids})
    sections = _clean({name: content.get(name) for name in SECTION_PROPERTIES})
    if sections:
        obj["sections"] = sections
    return obj
