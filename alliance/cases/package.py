"""Case packages: a ZIP of the manifest, every evidence file, a readable summary and the
instance's signature; and their verification. Pure over bytes: no database, no store.

Layout::

    manifest.json   the case (as the recipient may see it) and the evidence hash chain
    evidence/…      every evidence file, named by sequence number, hash and file name
    summary.html    the same, for people (static, escaped, no scripts)
    signature.jws   compact JWS (RS256, with the key's kid) over the chain head and the
                    SHA-256 of manifest.json and summary.html

Verification checks the signature against the instance's published JWKS, then that
manifest.json and summary.html are the signed ones, that the chain holds and ends at the
signed head, and that every file has the hash and size its entry says. Each problem names
the member of the ZIP at fault.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from alliance.cases import manifest

FORMAT = "alliance-case-package/1"
MANIFEST = "manifest.json"
SUMMARY = "summary.html"
SIGNATURE = "signature.jws"
REDACTED = "[redacted]"

# Personal data a recipient's policy may withhold, and where it sits in the case document.
PERSONAL_FIELDS: dict[str, str] = {
    "buyer_name": "the name of the person who made a test buy",
    "shipping_address": "the address a test buy was shipped to",
    "return_address": "a test buy's return address",
    "people": "who did what on the timeline (person and client ids)",
}


@dataclass(frozen=True, slots=True)
class FieldsPolicy:
    """Which personal data fields to redact for one recipient."""

    redact: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.redact) - set(PERSONAL_FIELDS))
        if unknown:
            raise ValueError(f"unknown personal data fields: {', '.join(unknown)}")

    @classmethod
    def full(cls) -> FieldsPolicy:
        return cls()

    @classmethod
    def no_personal_data(cls) -> FieldsPolicy:
        return cls(frozenset(PERSONAL_FIELDS))


def redact(case: Mapping[str, Any], policy: FieldsPolicy) -> dict[str, Any]:
    """The case document with the policy's fields replaced by ``[redacted]``."""
    doc = json.loads(json.dumps(case))
    for buy in doc.get("test_buys", []):
        for name in ("buyer_name", "shipping_address", "return_address"):
            if name in policy.redact and buy.get(name) is not None:
                buy[name] = REDACTED
    if "people" in policy.redact:
        for event in doc.get("timeline", []):
            if event.get("actor") is not None:
                event["actor"] = REDACTED
    doc["redacted"] = sorted(policy.redact)
    return doc


@dataclass(frozen=True, slots=True)
class PackageContent:
    case_id: str
    case: dict[str, Any]  # already redacted for the recipient
    chain: list[manifest.Entry]
    files: Mapping[str, bytes]  # by SHA-256
    issuer: str
    exported_at: str


def evidence_path(entry: manifest.Entry) -> str:
    name = str(entry.fields["filename"]).replace("/", "_").replace("\\", "_") or "file"
    return f"evidence/{entry.seq:04d}-{str(entry.fields['sha256'])[:12]}-{name}"


def _manifest_document(content: PackageContent) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "issuer": content.issuer,
        "exported_at": content.exported_at,
        "case_id": content.case_id,
        "case": content.case,
        "genesis": manifest.genesis(content.case_id),
        "head": manifest.head(content.case_id, content.chain),
        "entries": [
            {
                "seq": e.seq,
                "path": evidence_path(e),
                "fields": e.fields,
                "previous_hash": e.previous_hash,
                "entry_hash": e.entry_hash,
            }
            for e in content.chain
        ],
    }


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build(content: PackageContent, key: RSAKey) -> bytes:
    """The package's bytes, signed with ``key`` (the instance's current signing key)."""
    doc = _manifest_document(content)
    manifest_bytes = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False).encode()
    summary_bytes = render_summary(doc).encode()
    payload = {
        "typ": FORMAT,
        "iss": content.issuer,
        "case_id": content.case_id,
        "head": doc["head"],
        "entries": len(content.chain),
        "manifest_sha256": _sha(manifest_bytes),
        "summary_sha256": _sha(summary_bytes),
        "exported_at": content.exported_at,
    }
    token = jws.serialize_compact(
        {"alg": "RS256", "kid": str(key.kid)}, manifest.canonical_json(payload), key
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, manifest_bytes)
        archive.writestr(SUMMARY, summary_bytes)
        archive.writestr(SIGNATURE, token)
        # Evidence is stored as is: photos and PDFs are compressed already, and deflating
        # them costs ten times the rest of the build for nothing.
        for entry in content.chain:
            archive.writestr(
                evidence_path(entry),
                content.files[str(entry.fields["sha256"])],
                compress_type=zipfile.ZIP_STORED,
            )
    return buffer.getvalue()


# --- verification -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    member: str  # the ZIP member at fault
    message: str

    def __str__(self) -> str:
        return f"{self.member}: {self.message}"


@dataclass(frozen=True, slots=True)
class Verification:
    problems: list[Problem] = field(default_factory=list)
    case_id: str | None = None
    head: str | None = None
    entries: int = 0
    kid: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def failed_members(self) -> list[str]:
        return sorted({p.member for p in self.problems})


def _entries(doc: Mapping[str, Any]) -> list[tuple[str, manifest.Entry]]:
    return [
        (
            str(e.get("path", "")),
            manifest.Entry(
                int(e["seq"]), dict(e["fields"]), str(e["previous_hash"]), str(e["entry_hash"])
            ),
        )
        for e in doc.get("entries", [])
    ]


def verify(data: bytes, jwks: KeySet | Mapping[str, Any]) -> Verification:
    """Check a package against the instance's published keys (a JWKS)."""
    keys = jwks if isinstance(jwks, KeySet) else KeySet.import_key_set(dict(jwks))  # type: ignore[arg-type]
    problems: list[Problem] = []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return Verification([Problem("(package)", "is not a ZIP file")])
    with archive:
        names = set(archive.namelist())
        missing = [n for n in (MANIFEST, SUMMARY, SIGNATURE) if n not in names]
        if missing:
            return Verification([Problem(n, "is missing") for n in missing])

        def member(name: str) -> bytes | None:
            try:
                return archive.read(name)
            except (KeyError, zipfile.BadZipFile, OSError) as exc:
                problems.append(Problem(name, f"cannot be read ({exc})"))
                return None

        token = (member(SIGNATURE) or b"").decode("ascii", "replace").strip()
        manifest_bytes = member(MANIFEST) or b""
        summary_bytes = member(SUMMARY) or b""
        payload: dict[str, Any] = {}
        kid = None
        try:
            signed = jws.deserialize_compact(token, keys, algorithms=["RS256"])
            kid = signed.headers().get("kid")
            payload = json.loads(signed.payload)
        except (JoseError, ValueError) as exc:
            problems.append(
                Problem(SIGNATURE, f"does not verify against the published keys ({exc})")
            )
        try:
            doc = json.loads(manifest_bytes)
            entries = _entries(doc)
        except (ValueError, KeyError, TypeError):
            problems.append(Problem(MANIFEST, "is not a valid manifest"))
            return Verification(problems, kid=kid)
        case_id = str(doc.get("case_id", ""))
        if payload:
            if payload.get("manifest_sha256") != _sha(manifest_bytes):
                problems.append(Problem(MANIFEST, "was altered after it was signed"))
            if payload.get("summary_sha256") != _sha(summary_bytes):
                problems.append(Problem(SUMMARY, "was altered after it was signed"))
            if payload.get("case_id") != case_id:
                problems.append(Problem(MANIFEST, "names another case than the signature"))
        chain = [e for _, e in entries]
        problems += [Problem(MANIFEST, p) for p in manifest.chain_problems(case_id, chain)]
        head = manifest.head(case_id, chain)
        if payload and payload.get("head") != head:
            problems.append(Problem(MANIFEST, "the chain does not end at the signed head"))
        listed = {MANIFEST, SUMMARY, SIGNATURE}
        for path, entry in entries:
            listed.add(path)
            if path not in names:
                problems.append(Problem(path or f"entry {entry.seq}", "is missing"))
                continue
            content = member(path)
            if content is None:
                continue
            if _sha(content) != entry.fields.get("sha256"):
                problems.append(Problem(path, "its SHA-256 does not match the manifest"))
            elif len(content) != entry.fields.get("size"):
                problems.append(Problem(path, "its size does not match the manifest"))
        for name in sorted(names - listed):
            problems.append(Problem(name, "is not in the manifest"))
        return Verification(problems, case_id=case_id, head=head, entries=len(chain), kid=kid)


# --- the summary --------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _table(headers: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_summary(doc: Mapping[str, Any]) -> str:
    """A static page: every value escaped, no script, no remote resource."""
    case = doc["case"]
    outcome = case.get("outcome") or {}
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>Case {_e(case.get('reference'))}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #999;padding:.3em .6em;text-align:left;vertical-align:top}"
        "code{font-size:.85em}</style></head><body>",
        f"<h1>Case {_e(case.get('reference'))}: {_e(case.get('title'))}</h1>",
        _table(
            ["Status", "Jurisdiction", "Opened by", "Referred to", "Opened", "Closed"],
            [
                [
                    case.get("status"),
                    case.get("jurisdiction"),
                    case.get("opened_by"),
                    case.get("enforcement_organisation"),
                    case.get("opened_at"),
                    case.get("closed_at"),
                ]
            ],
        ),
        f"<p>{_e(case.get('summary'))}</p>",
        "<h2>Participants</h2>",
        _table(
            ["Organisation", "Role"],
            [[p["organisation"], p["role"]] for p in case.get("participants", [])],
        ),
        "<h2>Indicators</h2>",
        _table(["Type", "Value"], [[i["type"], i["value"]] for i in case.get("indicators", [])]),
        "<h2>Test buys</h2>",
        _table(
            ["Order", "Purchased", "Platform", "Seller", "Price", "Verdict", "Buyer", "Shipped to"],
            [
                [
                    b.get("order_number"),
                    b.get("purchased_at"),
                    b.get("platform"),
                    b.get("seller"),
                    b.get("price"),
                    b.get("verdict"),
                    b.get("buyer_name"),
                    b.get("shipping_address"),
                ]
                for b in case.get("test_buys", [])
            ],
        ),
        "<h2>Outcome</h2>",
        _table(
            ["Suspects", "Seized value", "Sites closed", "Prosecutions", "No action"],
            [
                [
                    outcome.get("suspects"),
                    outcome.get("seized_value"),
                    outcome.get("sites_closed"),
                    outcome.get("prosecutions"),
                    outcome.get("no_action"),
                ]
            ]
            if outcome
            else [],
        ),
        "<h2>Timeline</h2>",
        _table(
            ["#", "When", "What", "Organisation", "Who", "Detail"],
            [
                [
                    t["seq"],
                    t["occurred_at"],
                    t["kind"],
                    t.get("organisation"),
                    t.get("actor"),
                    json.dumps(t.get("detail", {}), sort_keys=True),
                ]
                for t in case.get("timeline", [])
            ],
        ),
        "<h2>Evidence</h2>",
        _table(
            ["#", "File", "Kind", "SHA-256", "Bytes", "Received", "By"],
            [
                [
                    e["seq"],
                    e["path"],
                    e["fields"].get("kind"),
                    e["fields"].get("sha256"),
                    e["fields"].get("size"),
                    e["fields"].get("received_at"),
                    f"{e['fields'].get('received_by')} ({e['fields'].get('received_by_org')})",
                ]
                for e in doc.get("entries", [])
            ],
        ),
        f"<p>Manifest head <code>{_e(doc.get('head'))}</code>, signed by {_e(doc.get('issuer'))} "
        f"at {_e(doc.get('exported_at'))}.",
    ]
    if case.get("redacted"):
        parts.append(f" Redacted for this recipient: {_e(', '.join(case['redacted']))}.")
    parts.append("</p></body></html>\n")
    return "".join(parts)
