"""The evidence hash chain and case packages: pure, over bytes and keys."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from dataclasses import replace
from hashlib import sha256

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc.jwk import KeySet

from alliance.auth.keys import generate_key
from alliance.cases import manifest, package
from alliance.sharing.policy import Viewer, can_see_participants_only

KEY = generate_key()
JWKS = KeySet([KEY]).as_dict(private=False)
CASE_ID = str(uuid.UUID(int=42))
FILES = {
    "receipt.txt": b"paid 10.00 EUR",
    "photo.jpg": bytes(range(256)) * 4,
    "sales.csv": b"order,amount\n1,10\n",
}


def _fields(name: str, content: bytes) -> dict[str, object]:
    return {
        "sha256": sha256(content).hexdigest(),
        "size": len(content),
        "filename": name,
        "media_type": "application/octet-stream",
        "kind": "DOCUMENT",
        "description": "",
        "received_at": "2026-11-30T10:00:00+00:00",
        "received_by": "person:1@acme-motors",
        "received_by_org": "acme-motors",
    }


def _chain(case_id: str = CASE_ID) -> list[manifest.Entry]:
    chain: list[manifest.Entry] = []
    for name, content in FILES.items():
        chain.append(manifest.append(case_id, chain, _fields(name, content)))
    return chain


def _package(case: dict[str, object] | None = None) -> bytes:
    return package.build(
        package.PackageContent(
            case_id=CASE_ID,
            case=case or {"reference": "C-1", "title": "<b>fake</b> airbags", "test_buys": []},
            chain=_chain(),
            files={sha256(c).hexdigest(): c for c in FILES.values()},
            issuer="https://alliance.example",
            exported_at="2026-12-01T00:00:00+00:00",
        ),
        KEY,
    )


def _rewrite(content: bytes, change: dict[str, bytes | None]) -> bytes:
    """The package with members replaced (bytes), removed (None) or added."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as copy:
        for name in source.namelist():
            if name in change:
                if change[name] is not None:
                    copy.writestr(name, change[name])
            else:
                copy.writestr(name, source.read(name))
        for name, data in change.items():
            if name not in source.namelist() and data is not None:
                copy.writestr(name, data)
    return out.getvalue()


def _member(content: bytes, suffix: str) -> tuple[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    name = next(n for n in archive.namelist() if n.endswith(suffix))
    return name, archive.read(name)


def test_a_chain_holds_and_commits_each_entry_to_the_last() -> None:
    chain = _chain()
    assert manifest.chain_problems(CASE_ID, chain) == []
    assert chain[0].previous_hash == manifest.genesis(CASE_ID)
    assert [e.previous_hash for e in chain[1:]] == [e.entry_hash for e in chain[:-1]]
    assert manifest.head(CASE_ID, chain) == chain[-1].entry_hash


def test_an_altered_entry_breaks_the_chain_there() -> None:
    chain = _chain()
    chain[1] = replace(chain[1], fields={**chain[1].fields, "received_by": "someone else"})
    assert manifest.chain_problems(CASE_ID, chain) == [
        "entry 2 (photo.jpg): its hash does not match its fields"
    ]


def test_reordered_or_dropped_entries_and_another_case_are_caught() -> None:
    chain = _chain()
    assert manifest.chain_problems(CASE_ID, [chain[1], chain[0], chain[2]])
    assert manifest.chain_problems(CASE_ID, [chain[0], chain[2]])
    assert manifest.chain_problems(str(uuid.UUID(int=7)), chain)


def test_an_entry_lacking_a_field_is_refused() -> None:
    with pytest.raises(ValueError, match="received_by"):
        manifest.append(
            CASE_ID, [], {k: v for k, v in _fields("x", b"x").items() if k != "received_by"}
        )


def test_a_package_verifies_against_the_published_keys() -> None:
    result = package.verify(_package(), JWKS)
    assert result.ok, result.problems
    assert result.entries == 3
    assert result.head == manifest.head(CASE_ID, _chain())
    assert result.kid == KEY.kid


def test_the_summary_escapes_what_the_case_says() -> None:
    _, summary = _member(_package(), "summary.html")
    assert b"&lt;b&gt;fake&lt;/b&gt; airbags" in summary
    assert b"<script" not in summary


@pytest.mark.parametrize("suffix", list(FILES))
def test_one_byte_changed_in_one_file_names_that_file(suffix: str) -> None:
    content = _package()
    name, data = _member(content, suffix)
    tampered = _rewrite(content, {name: bytes([data[0] ^ 1]) + data[1:]})
    result = package.verify(tampered, JWKS)
    assert result.failed_members == [name]
    assert result.problems[0].message == "its SHA-256 does not match the manifest"


@settings(max_examples=40, deadline=None)
@given(
    which=st.sampled_from(sorted(FILES)),
    position=st.integers(min_value=0),
    flip=st.integers(1, 255),
)
def test_any_byte_flipped_in_any_file_is_named(which: str, position: int, flip: int) -> None:
    content = _package()
    name, data = _member(content, which)
    at = position % len(data)
    tampered = _rewrite(content, {name: data[:at] + bytes([data[at] ^ flip]) + data[at + 1 :]})
    assert package.verify(tampered, JWKS).failed_members == [name]


def test_an_altered_manifest_or_summary_is_named() -> None:
    content = _package()
    _, doc = _member(content, "manifest.json")
    altered = doc.replace(b"C-1", b"C-2")
    assert package.verify(_rewrite(content, {"manifest.json": altered}), JWKS).failed_members == [
        "manifest.json"
    ]
    _, page = _member(content, "summary.html")
    assert package.verify(
        _rewrite(content, {"summary.html": page + b"<!-- -->"}), JWKS
    ).failed_members == ["summary.html"]


def test_a_missing_or_smuggled_file_is_named() -> None:
    content = _package()
    name, _ = _member(content, "sales.csv")
    missing = package.verify(_rewrite(content, {name: None}), JWKS)
    assert [str(p) for p in missing.problems] == [f"{name}: is missing"]
    extra = package.verify(_rewrite(content, {"evidence/9999-x.exe": b"MZ"}), JWKS)
    assert [str(p) for p in extra.problems] == ["evidence/9999-x.exe: is not in the manifest"]


def test_another_instance_key_or_a_forged_signature_fails_on_the_signature() -> None:
    content = _package()
    other = KeySet([generate_key()]).as_dict(private=False)
    assert package.verify(content, other).failed_members == ["signature.jws"]
    # A manifest rewritten with a consistent chain but signed by nobody we know.
    doc = json.loads(_member(content, "manifest.json")[1])
    doc["case"]["title"] = "rewritten"
    forged = _rewrite(content, {"manifest.json": json.dumps(doc).encode()})
    assert "manifest.json" in package.verify(forged, JWKS).failed_members


def test_not_a_zip() -> None:
    assert [str(p) for p in package.verify(b"nope", JWKS).problems] == [
        "(package): is not a ZIP file"
    ]


def test_redaction_replaces_personal_fields_only() -> None:
    case = {
        "test_buys": [{"buyer_name": "Ada", "shipping_address": "1 Street", "seller": "shop"}],
        "timeline": [{"actor": "person:1@acme-motors", "kind": "OPENED"}],
    }
    doc = package.redact(case, package.FieldsPolicy.no_personal_data())
    assert doc["test_buys"][0] == {
        "buyer_name": package.REDACTED,
        "shipping_address": package.REDACTED,
        "seller": "shop",
    }
    assert doc["timeline"][0]["actor"] == package.REDACTED
    assert package.redact(case, package.FieldsPolicy.full())["test_buys"][0]["buyer_name"] == "Ada"
    with pytest.raises(ValueError, match="unknown personal data fields: iban"):
        package.FieldsPolicy(frozenset({"iban"}))


def test_participants_only() -> None:
    org, other = uuid.UUID(int=1), uuid.UUID(int=2)
    assert can_see_participants_only(Viewer.member(org), [org, other])
    assert not can_see_participants_only(Viewer.member(uuid.UUID(int=3)), [org, other])
    assert not can_see_participants_only(Viewer.anonymous(), [org])
    assert not can_see_participants_only(Viewer.federated_peer(), [org])
