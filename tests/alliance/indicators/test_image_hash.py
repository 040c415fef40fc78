from __future__ import annotations

import pytest

from alliance.indicators import IndicatorErrorCode, normalise

from .conftest import assert_refused

PHASH = "d1c4b3a29f8e7d6c"
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


@pytest.mark.parametrize(
    "value",
    [
        PHASH,
        PHASH.upper(),
        f"0x{PHASH}",
        f"0X{PHASH.upper()}",
        "d1c4 b3a2 9f8e 7d6c",
        "d1:c4:b3:a2:9f:8e:7d:6c",
        f" {PHASH}\u200b",
    ],
)
def test_phash_forms_converge(value: str) -> None:
    assert normalise("image_phash", value).value == PHASH


def test_a_0x_number_is_padded_back_to_64_bits() -> None:
    assert normalise("image_phash", "0x1f").value == "000000000000001f"
    assert normalise("image_phash", "0x0").value == "0" * 16


@pytest.mark.parametrize(
    "value", ["1f", PHASH[:-1], PHASH + "0", "g1c4b3a29f8e7d6c", "0x", "0x" + "f" * 17, "１２"]
)
def test_phash_that_is_not_64_bits_of_hex_is_refused(value: str) -> None:
    assert_refused(
        lambda: normalise("image_phash", value),
        IndicatorErrorCode.INVALID_HASH,
        says="64 bits written as 16 hex digits",
    )


@pytest.mark.parametrize(
    ("value", "fields"),
    [
        (PDQ, {"quality": 100}),
        (PDQ.upper(), {"quality": "100"}),
        (f"{PDQ},100", {}),
        (f"{PDQ}, 100", {"quality": 100}),
        (f"0x{PDQ}", {"quality": 100}),
    ],
)
def test_pdq_forms_converge_and_record_quality(value: str, fields: dict) -> None:
    result = normalise("image_pdq", value, **fields)
    assert result.value == PDQ
    assert result.detail("quality") == 100


def test_pdq_quality_is_a_detail_not_part_of_the_value() -> None:
    assert normalise("image_pdq", PDQ, quality=50) == normalise("image_pdq", PDQ, quality=99)


@pytest.mark.parametrize("quality", [0, 10, 49, "49"])
def test_pdq_quality_below_50_is_refused(quality: object) -> None:
    assert_refused(
        lambda: normalise("image_pdq", PDQ, quality=quality),
        IndicatorErrorCode.QUALITY_TOO_LOW,
        field="quality",
        says="below 50",
    )


@pytest.mark.parametrize("quality", [-1, 101, 75.5, True, "high", "", [90]])
def test_pdq_quality_must_be_a_whole_number_0_to_100(quality: object) -> None:
    assert_refused(
        lambda: normalise("image_pdq", PDQ, quality=quality),
        IndicatorErrorCode.INVALID_QUALITY,
        field="quality",
    )


def test_pdq_needs_a_quality_and_a_full_hash() -> None:
    assert_refused(
        lambda: normalise("image_pdq", PDQ), IndicatorErrorCode.REQUIRED, field="quality"
    )
    assert_refused(
        lambda: normalise("image_pdq", f"{PDQ},90", quality=80),
        IndicatorErrorCode.INVALID_QUALITY,
        field="quality",
        says="differs",
    )
    assert_refused(
        lambda: normalise("image_pdq", PHASH, quality=90),
        IndicatorErrorCode.INVALID_HASH,
        says="256 bits",
    )
