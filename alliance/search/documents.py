"""Search documents and the registry of builders that make them from domain objects.

A domain registers, for each change-log kind it writes, a builder
``async (session, object_ids) -> documents`` returning the current state of those objects
that still exist (a missing id means the object is gone and its document is deleted). Every
document carries the object's visibility fields under the sharing policy's
:class:`~alliance.sharing.policy.FieldName` names, so the policy's search filter applies to
documents as it is.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import FieldName, Visibility


@dataclass(frozen=True, slots=True)
class SearchDocument:
    kind: str  # the change-log kind, e.g. "organisation", "indicator.assertion"
    object_id: str
    title: str
    updated_at: datetime
    distribution: Distribution
    tlp: TLP
    owner_org_id: uuid.UUID | None = None
    working_group_id: uuid.UUID | None = None
    body: str = ""
    keywords: tuple[str, ...] = ()
    type: str | None = None
    status: str | None = None
    brands: tuple[str, ...] = ()
    language: str | None = None

    @property
    def doc_id(self) -> str:
        return document_id(self.kind, self.object_id)

    @property
    def visibility(self) -> Visibility:
        return Visibility(self.owner_org_id, self.working_group_id, self.distribution, self.tlp)

    def visibility_fields(self) -> dict[FieldName, Any]:
        """The policy's fields by name, as strings (how both backends store them)."""
        values = self.visibility
        return {
            name: None if (value := values.value_of(name)) is None else str(value)
            for name in FieldName
        }


def document_id(kind: str, object_id: str) -> str:
    return f"{kind}:{object_id}"


def split_document_id(doc_id: str) -> tuple[str, str]:
    # Kinds never hold a colon; an object id may.
    kind, _, object_id = doc_id.partition(":")
    return kind, object_id


DocumentBuilder = Callable[[AsyncSession, Sequence[str]], Awaitable[list[SearchDocument]]]
# (session, after, limit) -> (object ids, the ``after`` of the next page or None): every
# object of a kind, for a full reindex.
ObjectLister = Callable[[AsyncSession, str | None, int], Awaitable[tuple[list[str], str | None]]]


@dataclass(frozen=True, slots=True)
class DocumentSource:
    kind: str
    build: DocumentBuilder
    list_all: ObjectLister


_SOURCES: dict[str, DocumentSource] = {}

# Modules whose import registers builders; a domain adds its own here.
BUILDER_MODULES = (
    "alliance.search.orgs",
    "alliance.search.indicators",
    "alliance.search.rules",
    "alliance.search.guides",
)


def register(kind: str, build: DocumentBuilder, list_all: ObjectLister) -> None:
    source = DocumentSource(kind, build, list_all)
    if kind in _SOURCES and _SOURCES[kind] != source:
        raise ValueError(f"a document builder for {kind!r} is already registered")
    _SOURCES[kind] = source


def sources() -> dict[str, DocumentSource]:
    """Every registered kind (importing the modules that register them)."""
    for module in BUILDER_MODULES:
        importlib.import_module(module)
    return dict(_SOURCES)
