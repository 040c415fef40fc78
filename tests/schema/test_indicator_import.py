"""``importIndicators`` over the GraphQL multipart request spec, and ``importJob(id:)``."""

from __future__ import annotations

import json
from typing import Any

from alliance.indicators import importing
from schema.relay import from_global_id
from tests.schema.indicator_helpers import ERROR_FIELDS, WRITE, group_id

IMPORT = f"""
mutation ($input: ImportIndicatorsInput!) {{
  importIndicators(input: $input) {{
    {ERROR_FIELDS}
    ... on ImportIndicatorsPayload {{ created job {{ id state format filename rowsTotal }} }}
  }}
}}
"""

JOB = """
query ($id: ID!) {
  importJob(id: $id) {
    id state format rowsTotal rowsDone rowsFailed created updated errorsTotal message
    errors { line column code message }
    errorsByCode { code count }
  }
}
"""

CSV = (
    "type,value,platform,confidence,tlp,distribution\n"
    "seller_account,https://shopee.cn/shop/123456789,,70,GREEN,ALLIANCE\n"
    "seller_account,987654,Shopee,101,GREEN,ALLIANCE\n"
    "keyword,fake airbag,,60,AMBER,WORKING_GROUP\n"
    "phone,not a phone,,50,GREEN,ALLIANCE\n"
)


async def upload(
    client: Any,
    token: str,
    content: bytes,
    filename: str = "indicators.csv",
    **input: Any,
) -> dict[str, Any]:
    operations = {"query": IMPORT, "variables": {"input": {"file": None, **input}}}
    response = await client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": (filename, content, "text/csv")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["importIndicators"]


async def test_an_uploaded_file_is_imported_in_the_background_and_its_job_reports_by_line(
    client, gql, issue_token, demo: dict[str, Any], settings, sessions, job_sender
) -> None:
    acme = demo["orgs"]["acme-motors"]
    token = issue_token(acme, WRITE)

    first = await upload(
        client, token, CSV.encode(), workingGroupId=group_id(demo, "automotive-parts")
    )

    assert first["__typename"] == "ImportIndicatorsPayload", first
    assert first["created"] is True
    assert first["job"]["state"] == "PENDING"
    assert (first["job"]["format"], first["job"]["filename"]) == ("csv", "indicators.csv")
    raw_id = from_global_id(first["job"]["id"])[1]
    assert [(j.name, j.kwargs, j.queue) for j in job_sender.sent] == [
        ("indicators.import_file", {"job_id": str(raw_id)}, "imports")
    ]

    # The worker's part, run here on the test's database.
    await importing.run_import(sessions, raw_id, data_dir=settings.data_dir)
    job = (await gql(JOB, {"id": first["job"]["id"]}, token=token))["data"]["importJob"]

    assert job["state"] == "DONE"
    assert (job["rowsTotal"], job["rowsDone"], job["rowsFailed"]) == (4, 4, 2)
    assert (job["created"], job["updated"], job["errorsTotal"]) == (2, 0, 2)
    assert [(e["line"], e["column"], e["code"]) for e in job["errors"]] == [
        (3, "confidence", "OUT_OF_RANGE"),
        (5, "value", "INVALID_PHONE"),
    ]
    assert {c["code"]: c["count"] for c in job["errorsByCode"]} == {
        "OUT_OF_RANGE": 1,
        "INVALID_PHONE": 1,
    }

    again = await upload(client, token, CSV.encode(), filename="renamed.csv")
    assert again["created"] is False
    assert again["job"]["id"] == first["job"]["id"]
    assert len(job_sender.sent) == 1, "the same file again queues nothing"

    other = issue_token(demo["orgs"]["shopmart"], WRITE)
    seen = (await gql(JOB, {"id": first["job"]["id"]}, token=other))["data"]["importJob"]
    assert seen is None, "an import job is its organisation's only"


async def test_a_refused_upload_is_a_typed_error_and_queues_nothing(
    client, issue_token, demo: dict[str, Any], job_sender
) -> None:
    police = issue_token(demo["orgs"]["city-police"], WRITE)

    observer = await upload(
        client, police, CSV.encode(), workingGroupId=group_id(demo, "consumer-electronics")
    )
    unknown_format = await upload(client, police, b"type,value\n", filename="indicators.xlsx")
    read_only = await upload(
        client, issue_token(demo["orgs"]["city-police"], "indicators:read"), CSV.encode()
    )

    assert observer["__typename"] == "Forbidden", observer
    assert unknown_format["__typename"] == "ValidationError", unknown_format
    assert [(f["path"], f["code"]) for f in unknown_format["fields"]] == [
        (["input", "format"], "UNKNOWN_FORMAT")
    ]
    assert read_only["__typename"] == "Forbidden"
    assert job_sender.sent == []
