"""Test buys and cases over GraphQL, end to end: the brand opens and refers, the platform
attaches sales records, the police accept and close; an uninvolved organisation cannot tell
the case exists. The exported package verifies, and a tampered one names the altered file."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any

import pytest
from sqlalchemy import func, select

from alliance.cases import package
from alliance.cases.models import Case, CaseEvent, CaseManifestEntry, TestBuy
from schema.relay import to_global_id
from tests.schema.indicator_helpers import ERROR_FIELDS, SUBMIT, group_id

SCOPES = "indicators:read indicators:write cases:read cases:write"

CASE_FIELDS = """
  id reference title status jurisdiction declineReason manifestHead version
  organisation { slug } enforcementOrganisation { slug }
  participants { role organisation { slug } }
  indicators { indicatorId type value }
  testBuys { id orderNumber verdict buyerName attachments { filename sha256 kind } }
  evidence { filename kind sha256 sizeBytes receivedBy receivedByOrganisation { slug } }
  timeline { seq kind organisation { slug } }
  outcome { suspects sitesClosed prosecutions noAction seizedValue { amount currency } }
"""

RECORD = f"""
mutation ($input: RecordTestBuyInput!) {{
  recordTestBuy(input: $input) {{
    {ERROR_FIELDS}
    ... on RecordTestBuyPayload {{
      testBuy {{
        id verdict orderNumber price {{ amount currency }} organisation {{ slug }}
        attachments {{ filename kind sha256 sizeBytes receivedBy }}
        confirms {{ assertionId indicatorId reactionId }}
      }}
    }}
  }}
}}
"""


def _case_mutation(name: str, input_type: str) -> str:
    return f"""
mutation ($input: {input_type}!) {{
  {name}(input: $input) {{
    {ERROR_FIELDS}
    ... on CasePayload {{ case {{ {CASE_FIELDS} }} }}
  }}
}}
"""


OPEN = _case_mutation("openCase", "OpenCaseInput")
ADD = _case_mutation("addToCase", "AddToCaseInput")
REFER = _case_mutation("referCase", "ReferCaseInput")
ACCEPT = _case_mutation("acceptCase", "AcceptCaseInput")
DECLINE = _case_mutation("declineCase", "DeclineCaseInput")
CLOSE = _case_mutation("closeCase", "CloseCaseInput")

ATTACH = f"""
mutation ($input: AttachSalesRecordsInput!) {{
  attachSalesRecords(input: $input) {{
    {ERROR_FIELDS}
    ... on AttachSalesRecordsPayload {{
      evidence {{ filename kind sha256 periodStart periodEnd }}
      case {{ status evidence {{ filename }} }}
    }}
  }}
}}
"""

EXPORT = f"""
mutation ($caseId: ID!, $policy: FieldsPolicyInput) {{
  exportCasePackage(caseId: $caseId, fieldsPolicy: $policy) {{
    {ERROR_FIELDS}
    ... on CasePackage {{ filename sizeBytes sha256 manifestHead contentBase64 }}
  }}
}}
"""

CASES = f"""
query {{ cases(first: 10) {{ totalCount edges {{ node {{ {CASE_FIELDS} }} }} }} }}
"""
CASE = f"query ($id: ID!) {{ case(id: $id) {{ {CASE_FIELDS} }} }}"
NODE = "query ($id: ID!) { node(id: $id) { id __typename } }"
STATS = """
query ($period: String!, $group: ID, $wide: Boolean! = false) {
  statistics(period: $period, workingGroupId: $group, allianceWide: $wide) {
    period allianceWide indicatorsShared indicatorsCorroborated testBuys
    testBuyVerdicts { verdict count }
    casesOpened casesReferred casesAccepted casesClosed suspects prosecutions sitesClosed
    seizedValue { amount currency }
  }
}
"""


class Org:
    def __init__(self, client: Any, gql: Any, token: str, org: Any) -> None:
        self.client, self.gql, self.token, self.org = client, gql, token, org

    async def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        body = await self.gql(query, variables, token=self.token)
        assert "errors" not in body, body
        return body["data"]

    async def mutate(self, query: str, name: str, input: dict[str, Any]) -> dict[str, Any]:
        return (await self(query, input=input))[name]

    async def upload(
        self, query: str, name: str, input: dict[str, Any], files: dict[str, tuple[str, bytes]]
    ) -> dict[str, Any]:
        """The GraphQL multipart request spec: ``files`` maps a variable path to a file."""
        mapping = {str(i): [f"variables.input.{path}"] for i, path in enumerate(files)}
        operations = {"query": query, "variables": {"input": input}}
        response = await self.client.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps(mapping)},
            files={
                str(i): (filename, content, "application/octet-stream")
                for i, (filename, content) in enumerate(files.values())
            },
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return body["data"][name]


@pytest.fixture
def as_org(client, gql, issue_token, demo):
    def make(slug: str, scopes: str = SCOPES) -> Org:
        org = demo["orgs"][slug]
        return Org(client, gql, issue_token(org, scopes), org)

    return make


def _input_with_nulls(input: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> dict[str, Any]:
    """Place nulls where the multipart map puts the files (``attachments.0.file``)."""
    for path in files:
        node: Any = input
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        node[parts[-1]] = None
    return input


async def record_buy(
    acme: Org, demo: dict[str, Any], assertion_id: str, **extra: Any
) -> dict[str, Any]:
    files = {"attachments.0.file": ("receipt.txt", b"order SO-1 paid 129.90 EUR\n")}
    input = {
        "purchasedAt": "2026-11-20T09:30:00Z",
        "platform": "shopee",
        "seller": "https://shopee.cn/shop/58200417",
        "orderNumber": "AM-TB-001",
        "verdict": "COUNTERFEIT",
        "workingGroupId": group_id(demo, "automotive-parts"),
        "buyerName": "Ada Analyst",
        "shippingAddress": "1 Test Street, Berlin",
        "price": {"amount": "129.90", "currency": "eur"},
        "guideReference": "acme-airbag-guide v3",
        "featuresChecked": ["hologram", "serial format"],
        "confirmsAssertionIds": [assertion_id],
        "attachments": [{"file": None, "kind": "RECEIPT", "description": "order receipt"}],
        **extra,
    }
    return await acme.upload(RECORD, "recordTestBuy", _input_with_nulls(input, files), files)


async def submit_network(acme: Org, demo: dict[str, Any]) -> list[dict[str, Any]]:
    group = group_id(demo, "automotive-parts")
    found = []
    for type_, value in (
        ("SELLER_ACCOUNT", "https://shopee.cn/shop/58200417"),
        ("PHONE", "+86 755 2688 1234"),
    ):
        result = await acme.mutate(
            SUBMIT,
            "submitIndicator",
            {
                "type": type_,
                "value": value,
                "workingGroupId": group,
                "distribution": "WORKING_GROUP",
                "tlp": "AMBER",
                "groupKey": "case-1",
            },
        )
        assert result["__typename"] == "SubmitIndicatorPayload", result
        found.append(result)
    return found


async def test_the_case_flow_end_to_end(as_org, demo, app, session) -> None:
    acme, shopmart, police = as_org("acme-motors"), as_org("shopmart"), as_org("city-police")
    outsider = as_org("volt-electronics")
    seller, phone = await submit_network(acme, demo)

    bought = await record_buy(acme, demo, seller["assertion"]["id"])
    assert bought["__typename"] == "RecordTestBuyPayload", bought
    buy = bought["testBuy"]
    assert buy["price"] == {"amount": "129.90", "currency": "EUR"}
    assert buy["attachments"][0]["kind"] == "RECEIPT"
    assert buy["attachments"][0]["receivedBy"].endswith("@acme-motors")
    assert buy["confirms"][0]["assertionId"] == seller["assertion"]["id"]

    opened = await acme.mutate(
        OPEN,
        "openCase",
        {
            "reference": "AM-2026-014",
            "title": "Airbag modules on shopee",
            "jurisdiction": "cn",
            "workingGroupId": group_id(demo, "automotive-parts"),
            "sellerNetworkIndicatorId": seller["indicator"]["id"],
            "testBuyIds": [buy["id"]],
        },
    )
    assert opened["__typename"] == "CasePayload", opened
    case = opened["case"]
    case_id = case["id"]
    assert case["status"] == "OPEN"
    assert case["jurisdiction"] == "CN"
    assert {i["value"] for i in case["indicators"]} == {
        seller["indicator"]["value"],
        phone["indicator"]["value"],
    }
    assert [e["filename"] for e in case["evidence"]] == ["receipt.txt"]

    # Before it is referred or joined, nobody but the opener knows it exists.
    for stranger in (shopmart, police, outsider):
        assert (await stranger(CASES))["cases"]["totalCount"] == 0
        assert (await stranger(CASE, id=case_id))["case"] is None
        assert (await stranger(NODE, id=case_id))["node"] is None

    added = await acme.mutate(
        ADD,
        "addToCase",
        {"caseId": case_id, "organisationIds": [to_global_id("Organisation", shopmart.org.id)]},
    )
    assert "PLATFORM" in {p["role"] for p in added["case"]["participants"]}

    files = {"file": ("sales.csv", b"order,amount\n1,10.00\n2,12.50\n")}
    attached = await shopmart.upload(
        ATTACH,
        "attachSalesRecords",
        {
            "caseId": case_id,
            "file": None,
            "description": "orders of shop 58200417",
            "periodStart": "2026-01-01",
            "periodEnd": "2026-10-31",
        },
        files,
    )
    assert attached["__typename"] == "AttachSalesRecordsPayload", attached
    assert attached["evidence"]["kind"] == "SALES_RECORDS"
    assert [e["filename"] for e in attached["case"]["evidence"]] == ["receipt.txt", "sales.csv"]

    # A brand may not attach sales records, nor may the platform refer the case.
    brand_attach = await acme.upload(
        ATTACH,
        "attachSalesRecords",
        {
            "caseId": case_id,
            "file": None,
            "description": "x",
            "periodStart": "2026-01-01",
            "periodEnd": "2026-01-02",
        },
        {"file": ("x.csv", b"x")},
    )
    assert brand_attach["__typename"] == "Forbidden"
    police_id = to_global_id("Organisation", police.org.id)
    not_opener = await shopmart.mutate(
        REFER, "referCase", {"caseId": case_id, "enforcementOrganisationId": police_id}
    )
    assert not_opener["__typename"] == "Forbidden"

    # A referral declined goes back to OPEN with the reason; referred again, it is accepted.
    referred = await acme.mutate(
        REFER, "referCase", {"caseId": case_id, "enforcementOrganisationId": police_id}
    )
    assert referred["case"]["status"] == "REFERRED"
    declined = await police.mutate(
        DECLINE, "declineCase", {"caseId": case_id, "reason": "need the sales records first"}
    )
    assert declined["case"]["status"] == "OPEN"
    assert declined["case"]["declineReason"] == "need the sales records first"
    await acme.mutate(
        REFER, "referCase", {"caseId": case_id, "enforcementOrganisationId": police_id}
    )
    early_close = await acme.mutate(
        CLOSE, "closeCase", {"caseId": case_id, "outcome": {"noAction": True}}
    )
    assert early_close["__typename"] == "Conflict"  # referred: awaiting the answer
    accepted = await police.mutate(ACCEPT, "acceptCase", {"caseId": case_id})
    assert accepted["case"]["status"] == "ACCEPTED"
    assert accepted["case"]["enforcementOrganisation"]["slug"] == "city-police"

    closed = await police.mutate(
        CLOSE,
        "closeCase",
        {
            "caseId": case_id,
            "outcome": {
                "suspects": 3,
                "seizedValue": {"amount": "250000.00", "currency": "CNY"},
                "sitesClosed": 2,
                "prosecutions": 1,
            },
        },
    )
    assert closed["__typename"] == "CasePayload", closed
    outcome = closed["case"]["outcome"]
    assert outcome == {
        "suspects": 3,
        "sitesClosed": 2,
        "prosecutions": 1,
        "noAction": False,
        "seizedValue": {"amount": "250000.00", "currency": "CNY"},
    }

    # Everyone involved sees the same timeline.
    kinds = [
        "OPENED",
        "ITEMS_ADDED",
        "PARTICIPANT_ADDED",
        "SALES_RECORDS_ATTACHED",
        "REFERRED",
        "DECLINED",
        "REFERRED",
        "ACCEPTED",
        "CLOSED",
    ]
    for participant in (acme, shopmart, police):
        seen = (await participant(CASE, id=case_id))["case"]
        assert [e["kind"] for e in seen["timeline"]] == kinds
        assert (await participant(CASES))["cases"]["totalCount"] == 1
        assert (await participant(NODE, id=case_id))["node"]["__typename"] == "Case"

    # The uninvolved organisation: no list entry, no node, no case, no write, no statistic.
    assert (await outsider(CASES))["cases"]["totalCount"] == 0
    assert (await outsider(CASE, id=case_id))["case"] is None
    assert (await outsider(NODE, id=case_id))["node"] is None
    poke = await outsider.mutate(ADD, "addToCase", {"caseId": case_id})
    assert poke["__typename"] == "NotFound"
    exported = (await outsider(EXPORT, caseId=case_id))["exportCasePackage"]
    assert exported["__typename"] == "NotFound"
    outside = (await outsider(STATS, period="2026"))["statistics"]
    assert outside["casesOpened"] == outside["casesClosed"] == outside["suspects"] == 0
    assert outside["seizedValue"] == []
    inside = (await police(STATS, period="2026"))["statistics"]
    assert (inside["casesOpened"], inside["casesReferred"], inside["casesClosed"]) == (1, 1, 1)
    assert inside["suspects"] == 3
    assert inside["seizedValue"] == [{"amount": "250000.00", "currency": "CNY"}]

    # The package verifies against the instance's published keys; one byte changed fails by name.
    pkg = (await police(EXPORT, caseId=case_id))["exportCasePackage"]
    assert pkg["__typename"] == "CasePackage", pkg
    content = base64.b64decode(pkg["contentBase64"])
    jwks = app.state.keys.public_jwks()
    result = package.verify(content, jwks)
    assert result.ok, result.problems
    assert result.head == pkg["manifestHead"] == closed["case"]["manifestHead"]
    assert result.entries == 2
    tampered, name = _tamper(content, "sales.csv")
    failed = package.verify(tampered, jwks)
    assert failed.failed_members == [name]
    assert "SHA-256" in failed.problems[0].message

    # Redacted for a recipient: the buyer's name and address are withheld, the chain still holds.
    redacted = (
        await acme(EXPORT, caseId=case_id, policy={"redact": ["BUYER_NAME", "SHIPPING_ADDRESS"]})
    )["exportCasePackage"]
    content = base64.b64decode(redacted["contentBase64"])
    assert package.verify(content, jwks).ok
    doc = json.loads(zipfile.ZipFile(io.BytesIO(content)).read("manifest.json"))
    assert doc["case"]["test_buys"][0]["buyer_name"] == package.REDACTED
    assert doc["case"]["test_buys"][0]["shipping_address"] == package.REDACTED
    assert b"Ada Analyst" not in content

    assert await session.scalar(select(func.count()).select_from(Case)) == 1
    assert await session.scalar(select(func.count()).select_from(CaseManifestEntry)) == 2
    assert await session.scalar(select(func.count()).select_from(CaseEvent)) == len(kinds)


def _tamper(content: bytes, suffix: str) -> tuple[bytes, str]:
    """The package with one byte of one evidence file changed."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    target = next(n for n in source.namelist() if n.endswith(suffix))
    with zipfile.ZipFile(out, "w") as copy:
        for name in source.namelist():
            data = source.read(name)
            if name == target:
                data = bytes([data[0] ^ 0x01]) + data[1:]
            copy.writestr(name, data)
    return out.getvalue(), target


async def test_bad_input_is_typed_and_writes_nothing(as_org, demo, session) -> None:
    acme = as_org("acme-motors")
    seller, _ = await submit_network(acme, demo)
    refused = await record_buy(
        acme,
        demo,
        seller["assertion"]["id"],
        purchasedAt="2099-01-01T00:00:00Z",
        price={"amount": "1.234", "currency": "EURO"},
        listingUrl="ftp://x",
    )
    assert refused["__typename"] == "ValidationError", refused
    paths = {tuple(f["path"]) for f in refused["fields"]}
    assert {
        ("input", "purchasedAt"),
        ("input", "price.currency"),
        ("input", "price.amount"),
        ("input", "listingUrl"),
    } <= paths
    assert await session.scalar(select(func.count()).select_from(TestBuy)) == 0

    bad_case = await acme.mutate(
        OPEN, "openCase", {"reference": "", "title": "t", "jurisdiction": "XX"}
    )
    assert bad_case["__typename"] == "ValidationError"
    assert {tuple(f["path"]) for f in bad_case["fields"]} == {
        ("input", "reference"),
        ("input", "jurisdiction"),
    }
    assert await session.scalar(select(func.count()).select_from(Case)) == 0


async def test_the_same_reference_in_two_organisations_does_not_conflict(as_org) -> None:
    for slug in ("acme-motors", "luxe-house"):
        opened = await as_org(slug).mutate(
            OPEN, "openCase", {"reference": "C-1", "title": "t", "jurisdiction": "DE"}
        )
        assert opened["__typename"] == "CasePayload", opened
    again = await as_org("acme-motors").mutate(
        OPEN, "openCase", {"reference": "C-1", "title": "t", "jurisdiction": "DE"}
    )
    assert again["__typename"] == "Conflict"


async def test_an_evidence_file_over_the_limit_is_refused(as_org, demo, settings, session) -> None:
    acme = as_org("acme-motors")
    settings.cases.max_evidence_bytes = 1024
    seller, _ = await submit_network(acme, demo)
    files = {"attachments.0.file": ("big.bin", b"x" * 2048)}
    input = {
        "purchasedAt": "2026-11-20T09:30:00Z",
        "platform": "shopee",
        "seller": "s",
        "orderNumber": "o",
        "verdict": "GENUINE",
        "distribution": "ORGANISATION",
        "attachments": [{"file": None}],
    }
    refused = await acme.upload(RECORD, "recordTestBuy", _input_with_nulls(input, files), files)
    assert refused["__typename"] == "ValidationError"
    assert refused["fields"][0]["path"] == ["input", "attachments.0.file"]
    assert refused["fields"][0]["code"] == "TOO_LARGE"
    assert await session.scalar(select(func.count()).select_from(TestBuy)) == 0
