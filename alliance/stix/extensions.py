"""The instance's STIX extension definitions and its own identity object.

A property extension carries on each ``indicator`` what STIX has no property for (the
indicator type, the canonical value, severity, brands, distribution, working group…), so a
bundle imported here round-trips exactly. New observable types (SCOs) cover indicator values
STIX has no observable for (phone numbers, payment accounts, postal addresses, waybills,
image hashes, GTINs, keywords, serial patterns).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from alliance.stix.ids import stix_id

DEFINITIONS_CREATED = "2026-01-01T00:00:00.000Z"
EXTENSION_VERSION = "1.0.0"


@dataclass(frozen=True, slots=True)
class ObservableType:
    name: str
    description: str
    properties: str


OBSERVABLE_TYPES = [
    ObservableType(
        "alliance-phone-number",
        "A phone number",
        "value: the number in E.164 form (+8675526881234)",
    ),
    ObservableType(
        "alliance-payment-account",
        "A payment account (bank account, IBAN, card, wallet)",
        "value: kind:provider:number as the instance normalises it (wallet:alipay:13800138000,"
        " iban:DE89370400440532013000)",
    ),
    ObservableType(
        "alliance-postal-address",
        "A shipping or return address",
        "value: ISO 3166-1 alpha-2 country, a colon, the normalised address text",
    ),
    ObservableType(
        "alliance-waybill",
        "A parcel tracking (waybill) number",
        "value: carrier:number (sf_express:SF1234567890123)",
    ),
    ObservableType(
        "alliance-image-hash",
        "A perceptual hash of a product image",
        "algorithm: phash (64-bit, 16 hex digits) or pdq (256-bit, 64 hex digits); value: the hash",
    ),
    ObservableType(
        "alliance-gtin", "A product GTIN (EAN/UPC)", "value: the GTIN-14 with its check digit"
    ),
    ObservableType(
        "alliance-keyword", "A listing keyword or phrase", "value: the normalised phrase"
    ),
    ObservableType(
        "alliance-brand-misspelling",
        "A misspelling of a brand name used to evade filters",
        "value: the normalised misspelling",
    ),
    ObservableType(
        "alliance-serial-pattern",
        "A counterfeit serial-number pattern",
        "value: the pattern (a regular expression)",
    ),
]

RULE_TYPE = "alliance-banned-category-rule"
RULE_SCHEMA = (
    "A banned-category rule partner platforms apply (an Alliance object type). Properties: name,"
    " description, status (ACTIVE, RETIRED; a retired rule is revoked), rule_version (the"
    " version in force), decision, rationale, definition (jurisdictions, platforms,"
    " category_ids, brands, keywords {all_of, any_of, none_of}, conditions, exceptions"
    " {authorised_sellers, certification_ids, required_statement, ships_to_only}, evidence,"
    " effective_from, effective_to)."
)

GUIDE_TYPE = "alliance-identification-guide"
GUIDE_SCHEMA = (
    "An identification guide: how to tell a genuine product from a counterfeit (an Alliance"
    " object type), as its latest published version. Properties: name (the title), description"
    " (the summary, Markdown), lang, guide_version, status (PUBLISHED, ARCHIVED; an archived"
    " guide is revoked), published, working_group (slug), distribution, brands, product_lines,"
    " category_id, gtins, indicator_refs (the indicators its counterfeit tells compiled into),"
    " sections {rights, contacts, features [id, kind AUTHENTIC|TELL, tier OVERT|COVERT|FORENSIC,"
    " title, text (Markdown), keywords, misspellings…], packaging, labels, serial_formats,"
    " supply_chain, price_guidance, test_buy_notes}. Covert and forensic features are present"
    " only for a reader the instance lets see them."
)

INDICATOR_EXTENSION = "alliance-indicator"
INDICATOR_EXTENSION_SCHEMA = (
    "Properties an Alliance instance adds to an indicator: indicator_type (seller_account, "
    "listing_url, phone…), value (the canonical value), severity (LOW, MEDIUM, HIGH, CRITICAL), "
    "status (ACTIVE, DISPUTED, EXPIRED, REVOKED), brands, product_category, tags, distribution "
    "(ORGANISATION, WORKING_GROUP, ALLIANCE, FEDERATION), working_group (slug), parts (the "
    "value's own parts, e.g. a PDQ hash's quality), score."
)


@dataclass(frozen=True, slots=True)
class Instance:
    """What the STIX objects of one instance are named after."""

    namespace: uuid.UUID
    name: str
    url: str

    @property
    def identity_id(self) -> str:
        return stix_id(self.namespace, "identity", "instance", self.url)

    def extension_id(self, name: str) -> str:
        return stix_id(self.namespace, "extension-definition", "extension", name)

    @property
    def indicator_extension_id(self) -> str:
        return self.extension_id(INDICATOR_EXTENSION)


def instance_identity(instance: Instance) -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": instance.identity_id,
        "created": DEFINITIONS_CREATED,
        "modified": DEFINITIONS_CREATED,
        "name": instance.name,
        "description": f"The Alliance instance at {instance.url}",
        "identity_class": "system",
    }


def _definition(
    instance: Instance, name: str, description: str, schema: str, types: list[str]
) -> dict[str, Any]:
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": instance.extension_id(name),
        "created_by_ref": instance.identity_id,
        "created": DEFINITIONS_CREATED,
        "modified": DEFINITIONS_CREATED,
        "name": name,
        "description": description,
        "schema": schema,
        "version": EXTENSION_VERSION,
        "extension_types": types,
    }


def extension_definitions(instance: Instance) -> list[dict[str, Any]]:
    found = [
        _definition(
            instance,
            INDICATOR_EXTENSION,
            "Alliance properties of a counterfeit indicator",
            INDICATOR_EXTENSION_SCHEMA,
            ["property-extension"],
        )
    ]
    found.append(
        _definition(
            instance,
            RULE_TYPE,
            "A banned-category rule (an Alliance object type)",
            RULE_SCHEMA,
            ["new-sdo"],
        )
    )
    found.append(
        _definition(
            instance,
            GUIDE_TYPE,
            "An identification guide (an Alliance object type)",
            GUIDE_SCHEMA,
            ["new-sdo"],
        )
    )
    for observable in OBSERVABLE_TYPES:
        found.append(
            _definition(
                instance,
                observable.name,
                f"{observable.description} (an Alliance observable type)",
                f"Observable type {observable.name}. Properties: {observable.properties}.",
                ["new-sco"],
            )
        )
    return found
