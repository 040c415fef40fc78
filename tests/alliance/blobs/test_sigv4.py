"""SigV4 against the worked examples of AWS's S3 documentation ("Signature Calculations for the
Authorization Header: Transferring Payload in a Single Chunk"): same inputs, same signatures."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from alliance.blobs.sigv4 import EMPTY_SHA256, sign

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
MOMENT = datetime(2013, 5, 24, tzinfo=UTC)
HOST = "examplebucket.s3.amazonaws.com"


def signature(headers: dict[str, str]) -> str:
    return headers["Authorization"].rsplit("Signature=", 1)[1]


def test_get_object_example() -> None:
    headers = sign(
        method="GET",
        host=HOST,
        path="/test.txt",
        headers={"Range": "bytes=0-9"},
        payload_sha256=EMPTY_SHA256,
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
        region="us-east-1",
        moment=MOMENT,
    )
    assert headers["Authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
    )
    assert signature(headers) == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"


def test_put_object_example() -> None:
    body = b"Welcome to Amazon S3."
    headers = sign(
        method="PUT",
        host=HOST,
        path="/test$file.text",
        headers={
            "Date": "Fri, 24 May 2013 00:00:00 GMT",
            "x-amz-storage-class": "REDUCED_REDUNDANCY",
        },
        payload_sha256=hashlib.sha256(body).hexdigest(),
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
        region="us-east-1",
        moment=MOMENT,
    )
    assert (
        "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class"
        in (headers["Authorization"])
    )
    assert signature(headers) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"


def test_get_bucket_lifecycle_example() -> None:
    headers = sign(
        method="GET",
        host=HOST,
        path="/",
        query={"lifecycle": ""},
        payload_sha256=EMPTY_SHA256,
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
        region="us-east-1",
        moment=MOMENT,
    )
    assert signature(headers) == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"


def test_list_objects_example() -> None:
    headers = sign(
        method="GET",
        host=HOST,
        path="/",
        query={"max-keys": "2", "prefix": "J"},
        payload_sha256=EMPTY_SHA256,
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
        region="us-east-1",
        moment=MOMENT,
    )
    assert signature(headers) == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
