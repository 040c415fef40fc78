"""TLP as STIX marking definitions.

CLEAR, GREEN, AMBER and RED use the TLP 1.0 marking definitions STIX 2.1 predefines (CLEAR as
``white``), which every STIX 2.1 tool knows. AMBER+STRICT has no TLP 1.0 equivalent: it uses
the TLP 2.0 marking definition the OASIS CTI TC publishes with its ``tlp-2.0`` extension
(cti-stix-common-objects, extension-definition-specifications/tlp-2.0). On import, the TLP 2.0
ids of every level are understood too.
"""

from __future__ import annotations

from typing import Any

from alliance.sharing import TLP

TLP_CREATED_1_0 = "2017-01-20T00:00:00.000Z"
TLP_CREATED_2_0 = "2022-10-01T00:00:00.000Z"
TLP_2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

_TLP_1_0 = {
    "white": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "red": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}
_TLP_2_0 = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}


def _tlp_1_0(level: str) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": _TLP_1_0[level],
        "created": TLP_CREATED_1_0,
        "definition_type": "tlp",
        "name": f"TLP:{level.upper()}",
        "definition": {"tlp": level},
    }


def _tlp_2_0(level: str) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": _TLP_2_0[level],
        "created": TLP_CREATED_2_0,
        "name": f"TLP:{level.upper()}",
        "extensions": {
            TLP_2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level}
        },
    }


MARKINGS: dict[TLP, dict[str, Any]] = {
    TLP.CLEAR: _tlp_1_0("white"),
    TLP.GREEN: _tlp_1_0("green"),
    TLP.AMBER: _tlp_1_0("amber"),
    TLP.AMBER_STRICT: _tlp_2_0("amber+strict"),
    TLP.RED: _tlp_1_0("red"),
}

_BY_ID: dict[str, TLP] = {
    **{m["id"]: tlp for tlp, m in MARKINGS.items()},
    _TLP_2_0["clear"]: TLP.CLEAR,
    _TLP_2_0["green"]: TLP.GREEN,
    _TLP_2_0["amber"]: TLP.AMBER,
    _TLP_2_0["red"]: TLP.RED,
}


def marking_id(tlp: TLP) -> str:
    return str(MARKINGS[tlp]["id"])


def tlp_of_marking(marking_ref: str) -> TLP | None:
    return _BY_ID.get(marking_ref)


def tlp_of_refs(refs: list[str]) -> TLP | None:
    """The strictest TLP among an object's marking refs (None when it carries no TLP)."""
    order = [TLP.RED, TLP.AMBER_STRICT, TLP.AMBER, TLP.GREEN, TLP.CLEAR]
    found = {t for t in (tlp_of_marking(r) for r in refs) if t is not None}
    return next((t for t in order if t in found), None)
