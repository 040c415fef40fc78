"""The upload and download endpoints and the GraphQL mutations, over real HTTP to a real
uvicorn (the app on the test's rolled-back connection, on both databases)."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from PIL import Image
from sqlalchemy import func, select

from alliance.blobs import service
from alliance.blobs.models import Blob
from alliance.db import unit_of_work
from schema.relay import to_global_id
from tests.alliance.blobs import samples
from tests.alliance.blobs.conftest import stored_files
from tests.test_serve import free_port

WRITE = "guides:write guides:read indicators:write indicators:read"

UPLOAD = """
mutation ($file: Upload!) {
  uploadBlob(file: $file) {
    __typename
    ... on Error { code message }
    ... on ValidationError { fields { path code message } }
    ... on UploadBlobPayload {
      blob { id contentType size filename width height phash pdq pdqQuality thumbnailStatus url }
    }
  }
}
"""

FROM_BLOB = """
mutation ($input: CreateImageIndicatorFromBlobInput!) {
  createImageIndicatorFromBlob(input: $input) {
    __typename
    ... on Error { code message }
    ... on ValidationError { fields { path code message } }
    ... on CreateImageIndicatorFromBlobPayload {
      created
      indicator { type value }
      assertion { confidence tlp distribution workingGroup { slug } details }
    }
  }
}
"""


@pytest.fixture
async def server(settings, sessions, job_sender, demo) -> AsyncIterator[Any]:
    from alliance.app import create_app

    app = create_app(settings, sessions=sessions, job_sender=job_sender)
    port = free_port()
    uv = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(uv.serve())
    while not uv.started:  # noqa: ASYNC110  (uvicorn offers no event to wait on)
        assert not serving.done(), "uvicorn stopped during start-up"
        await asyncio.sleep(0.05)
    try:
        yield app, f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        await serving


@pytest.fixture
async def http(server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server[1], timeout=30) as client:
        yield client


@pytest.fixture
def token(server, issue_token, demo):
    def make(slug: str = "acme-motors", scopes: str = WRITE) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(demo['orgs'][slug], scopes)}"}

    return make


async def rows(sessions) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Blob)) or 0)


async def upload(http, headers, data: bytes, filename: str = "photo.jpg", declared="image/jpeg"):
    return await http.post("/v1/blobs", files={"file": (filename, data, declared)}, headers=headers)


async def test_rest_upload_then_download_with_safe_headers(http, token, settings) -> None:
    answer = await upload(http, token(), samples.jpeg_with_gps(), "fake pads.jpg")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["contentType"] == "image/jpeg"
    assert (body["width"], body["height"]) == (640, 480)
    assert len(body["phash"]) == 16
    assert len(body["pdq"]) == 64
    assert body["pdqQuality"] >= 50
    assert body["size"] > 0

    got = await http.get(f"/v1/blobs/{body['id']}", headers=token())
    assert got.status_code == 200
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in got.headers["content-security-policy"]
    assert got.headers["content-disposition"].startswith('inline; filename="fake pads.jpg"')
    assert len(got.content) == body["size"]
    assert dict(Image.open(io.BytesIO(got.content)).getexif()) == {}
    assert b"SpyCam" not in got.content


async def test_a_pdf_is_served_as_an_attachment(http, token) -> None:
    pdf = samples.pdf()
    answer = await upload(http, token(), pdf, "guide.pdf", "application/pdf")
    assert answer.status_code == 201, answer.text
    got = await http.get(f"/v1/blobs/{answer.json()['id']}", headers=token())
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.content == pdf


async def test_another_organisation_gets_404_until_a_registered_check_allows_it(
    http, token, demo, exhibits
) -> None:
    blob_id = (await upload(http, token(), samples.png(), "x.png")).json()["id"]
    for path in (f"/v1/blobs/{blob_id}", f"/v1/blobs/{blob_id}/thumbnail"):
        assert (await http.get(path, headers=token("shopmart"))).status_code == 404
    assert (await http.get(f"/v1/blobs/{uuid.uuid4()}", headers=token())).status_code == 404
    assert (await http.get("/v1/blobs/not-an-id", headers=token())).status_code == 404
    assert (await http.get(f"/v1/blobs/{blob_id}")).status_code == 401
    no_scope = token(scopes="indicators:read")
    assert (await http.get(f"/v1/blobs/{blob_id}", headers=no_scope)).status_code == 403

    exhibits.attach(uuid.UUID(blob_id), demo["orgs"]["shopmart"].id)
    assert (await http.get(f"/v1/blobs/{blob_id}", headers=token("shopmart"))).status_code == 200


async def test_the_thumbnail_is_served_once_the_task_made_it(
    http, token, sessions, settings, job_sender
) -> None:
    blob_id = (await upload(http, token(), samples.png(), "x.png")).json()["id"]
    pending = await http.get(f"/v1/blobs/{blob_id}/thumbnail", headers=token())
    assert pending.status_code == 404
    assert pending.headers["retry-after"] == "5"
    [job] = job_sender.sent
    async with unit_of_work(sessions) as session:
        await service.make_thumbnail(
            session, settings=settings, blob_id=uuid.UUID(job.kwargs["blob_id"])
        )
    ready = await http.get(f"/v1/blobs/{blob_id}/thumbnail", headers=token())
    assert ready.status_code == 200
    assert ready.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(ready.content)).size == (320, 240)


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        pytest.param(samples.HTML, 422, "UNSUPPORTED_TYPE", id="html-named-jpg"),
        pytest.param(samples.SVG, 422, "UNSUPPORTED_TYPE", id="svg-named-jpg"),
        pytest.param(samples.JPEG_MAGIC_HTML, 422, "CORRUPT_FILE", id="polyglot"),
        pytest.param(samples.png_bomb(), 422, "DECOMPRESSION_BOMB", id="bomb"),
        pytest.param(b"\xff\xd8\xff" + bytes(11 * 1024 * 1024), 413, "TOO_LARGE", id="oversized"),
    ],
)
async def test_refused_rest_uploads_say_why_and_store_nothing(
    http, token, sessions, settings, data, status, code
) -> None:
    answer = await upload(http, token(), data)
    assert answer.status_code == status, answer.text
    [field] = answer.json()["error"]["fields"]
    assert (field["path"], field["code"]) == (["file"], code)
    assert field["message"]
    assert await rows(sessions) == 0
    assert stored_files(settings.blobs_dir) == []


async def test_an_oversized_stream_without_a_length_is_cut_off(http, token, sessions, settings):
    boundary = "xyz"

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        for _ in range(40):  # 40 MiB: far past the limit, never read that far
            yield b"\xff" * (1024 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    answer = await http.post(
        "/v1/blobs",
        content=body(),
        headers={**token(), "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["fields"][0]["code"] == "TOO_LARGE"
    assert await rows(sessions) == 0
    assert stored_files(settings.blobs_dir) == []


async def test_uploading_needs_the_guides_write_scope(http, token) -> None:
    answer = await upload(http, token(scopes="guides:read"), samples.png())
    assert answer.status_code == 403
    assert (await http.post("/v1/blobs", files={"file": ("a", b"x")})).status_code == 401


async def graphql_upload(http, headers, data: bytes, filename: str) -> dict[str, Any]:
    operations = {"query": UPLOAD, "variables": {"file": None}}
    answer = await http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, data, "image/jpeg")},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]["uploadBlob"]  # type: ignore[no-any-return]


async def test_graphql_upload_and_one_mutation_from_photo_to_image_indicator(
    http, token, demo
) -> None:
    uploaded = await graphql_upload(http, token(), samples.jpeg_with_gps(), "fake.jpg")
    assert uploaded["__typename"] == "UploadBlobPayload", uploaded
    blob = uploaded["blob"]
    assert blob["contentType"] == "image/jpeg"
    assert blob["thumbnailStatus"] == "PENDING"
    assert blob["url"].startswith("/v1/blobs/")
    got = await http.get(blob["url"], headers=token())
    assert got.status_code == 200
    query = {
        "query": "query ($id: ID!) { blob(id: $id) { id pdq } }",
        "variables": {"id": blob["id"]},
    }
    mine = (await http.post("/graphql", json=query, headers=token())).json()
    assert mine["data"]["blob"] == {"id": blob["id"], "pdq": blob["pdq"]}
    theirs = (await http.post("/graphql", json=query, headers=token("shopmart"))).json()
    assert theirs["data"]["blob"] is None

    group = to_global_id("WorkingGroup", demo["groups"]["automotive-parts"].id)
    for hash_type, expected_type, value in (
        ("PDQ", "IMAGE_PDQ", blob["pdq"]),
        ("PHASH", "IMAGE_PHASH", blob["phash"]),
    ):
        answer = await http.post(
            "/graphql",
            json={
                "query": FROM_BLOB,
                "variables": {
                    "input": {
                        "blobId": blob["id"],
                        "hashType": hash_type,
                        "workingGroupId": group,
                        "tlp": "GREEN",
                        "confidence": 85,
                    }
                },
            },
            headers=token(),
        )
        made = answer.json()["data"]["createImageIndicatorFromBlob"]
        assert made["__typename"] == "CreateImageIndicatorFromBlobPayload", made
        assert made["created"] is True
        assert made["indicator"] == {"type": expected_type, "value": value}
        assert made["assertion"]["confidence"] == 85
        assert made["assertion"]["tlp"] == "GREEN"
        assert made["assertion"]["workingGroup"] == {"slug": "automotive-parts"}


async def test_graphql_refuses_files_and_blobs_it_should(http, token, sessions, settings) -> None:
    refused = await graphql_upload(http, token(), samples.SVG, "logo.jpg")
    assert refused["__typename"] == "ValidationError"
    assert refused["fields"][0]["path"] == ["file"]
    assert refused["fields"][0]["code"] == "UNSUPPORTED_TYPE"
    bomb = await graphql_upload(http, token(), samples.png_bomb(), "big.png")
    assert bomb["fields"][0]["code"] == "DECOMPRESSION_BOMB"
    big = await graphql_upload(http, token(), b"\xff\xd8\xff" + bytes(11 << 20), "big.jpg")
    assert big["fields"][0]["code"] == "TOO_LARGE"
    assert await rows(sessions) == 0
    assert stored_files(settings.blobs_dir) == []

    theirs = await graphql_upload(http, token("shopmart"), samples.png(), "s.png")
    answer = await http.post(
        "/graphql",
        json={"query": FROM_BLOB, "variables": {"input": {"blobId": theirs["blob"]["id"]}}},
        headers=token(),
    )
    assert answer.json()["data"]["createImageIndicatorFromBlob"]["__typename"] == "NotFound"
    no_scope = await graphql_upload(http, token(scopes="indicators:write"), samples.png(), "a.png")
    assert no_scope["__typename"] == "Forbidden"
