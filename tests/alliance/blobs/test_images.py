"""Sniffing, sanitising and hashing on bytes: the pure half of the blob pipeline."""

from __future__ import annotations

import io

import imagehash
import pytest
from PIL import Image, ImageEnhance

from alliance.blobs import images
from alliance.blobs.service import _validate, sanitise_filename
from alliance.blobs.sniffing import BlobType, sniff
from alliance.errors import InvalidInput
from tests.alliance.blobs import samples

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000


def refusal(data: bytes, *, max_bytes: int = MAX_BYTES) -> tuple[tuple[str, ...], str, str]:
    with pytest.raises(InvalidInput) as caught:
        _validate(data, max_bytes=max_bytes, max_pixels=MAX_PIXELS)
    [problem] = caught.value.problems
    return problem.path, problem.code, problem.message


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (samples.jpeg_with_gps, BlobType.JPEG),
        (samples.png, BlobType.PNG),
        (samples.webp, BlobType.WEBP),
        (samples.gif, BlobType.GIF),
        (samples.pdf, BlobType.PDF),
    ],
)
def test_each_accepted_type_is_sniffed_from_its_bytes(make, expected) -> None:
    data = make()
    assert sniff(data) is expected
    accepted = _validate(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
    assert accepted.kind is expected
    if expected.is_image:
        assert accepted.image is not None
        assert (accepted.image.width, accepted.image.height) == (640, 480)
        # What is stored decodes as what was sniffed.
        assert Image.open(io.BytesIO(accepted.data)).format == expected.pillow_format
    else:
        assert accepted.image is None
        assert accepted.data == data


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(samples.HTML, "UNSUPPORTED_TYPE", id="html"),
        pytest.param(samples.SVG, "UNSUPPORTED_TYPE", id="svg"),
        pytest.param(samples.EXE, "UNSUPPORTED_TYPE", id="exe"),
        pytest.param(b"", "UNSUPPORTED_TYPE", id="empty"),
        pytest.param(samples.HTML_THEN_PDF, "UNSUPPORTED_TYPE", id="html-pdf-polyglot"),
        pytest.param(samples.JPEG_MAGIC_HTML, "CORRUPT_FILE", id="jpeg-magic-then-html"),
        pytest.param(samples.png()[:200], "CORRUPT_FILE", id="truncated-png"),
        pytest.param(b"%PDF-1.7\n1 0 obj <<>> endobj\n", "CORRUPT_FILE", id="pdf-without-eof"),
    ],
)
def test_anything_else_is_refused_whatever_it_is_called(data: bytes, code: str) -> None:
    path, found, message = refusal(data)
    assert (path, found) == (("file",), code)
    assert message


def test_the_size_limit_is_checked_before_anything_is_decoded() -> None:
    data = samples.png()
    path, code, message = refusal(data, max_bytes=len(data) - 1)
    assert (path, code) == (("file",), "TOO_LARGE")
    assert str(len(data) - 1) in message


def test_a_small_png_declaring_thirty_thousand_pixels_square_is_a_decompression_bomb() -> None:
    bomb = samples.png_bomb()
    assert len(bomb) < 200_000
    path, code, message = refusal(bomb)
    assert (path, code) == (("file",), "DECOMPRESSION_BOMB")
    assert "30000x30000" in message


def test_pillows_own_bomb_guard_becomes_the_typed_error_too() -> None:
    # Under our limit but over Pillow's (MAX_IMAGE_PIXELS): Pillow's warning is refused as well.
    bomb = samples.png_bomb(10_000)
    with pytest.raises(InvalidInput) as caught:
        images.decode(bomb, BlobType.PNG, max_pixels=500_000_000)
    assert caught.value.problems[0].code == "DECOMPRESSION_BOMB"


def test_exif_gps_xmp_and_comments_are_stripped_and_the_orientation_applied() -> None:
    # Orientation 6: the camera was turned; viewers rotate the 640x480 pixels to stand 480x640.
    original = samples.jpeg_with_gps(orientation=6)
    assert b"SpyCam" in original
    assert b"52,22.2N" in original
    accepted = _validate(original + samples.HTML, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
    stored = Image.open(io.BytesIO(accepted.data))
    assert stored.size == (480, 640)
    assert dict(stored.getexif()) == {}
    assert stored.getexif().get_ifd(samples.GPS_IFD) == {}
    assert not {"exif", "xmp", "comment", "icc_profile"} & set(stored.info)
    for leaked in (b"SpyCam", b"52,22.2N", b"warehouse", b"<script>", b"Exif\x00\x00"):
        assert leaked not in accepted.data


def test_hashes_are_stable_for_the_same_image_and_near_for_a_slightly_changed_one() -> None:
    base = samples.photo()
    first = images.sanitise(samples.encoded(base, "PNG"), BlobType.PNG, max_pixels=MAX_PIXELS)
    again = images.sanitise(samples.encoded(base, "PNG"), BlobType.PNG, max_pixels=MAX_PIXELS)
    assert (first.phash, first.pdq, first.pdq_quality) == (
        again.phash,
        again.pdq,
        again.pdq_quality,
    )
    assert len(first.phash) == 16
    assert len(first.pdq) == 64
    assert first.pdq_quality >= 50
    assert first.phash == str(imagehash.phash(base))

    # Recompressed as a lower-quality JPEG, a little brighter and a little smaller: the same photo.
    changed_image = ImageEnhance.Brightness(base).enhance(1.08).resize((600, 450))
    changed = images.sanitise(
        samples.encoded(changed_image, "JPEG", quality=60), BlobType.JPEG, max_pixels=MAX_PIXELS
    )
    other = images.sanitise(
        samples.encoded(samples.photo(seed=5).rotate(90), "PNG"),
        BlobType.PNG,
        max_pixels=MAX_PIXELS,
    )
    assert hamming(first.phash, changed.phash) <= 8
    assert hamming(first.pdq, changed.pdq) <= 31  # PDQ's confident-match threshold
    assert hamming(first.pdq, other.pdq) > hamming(first.pdq, changed.pdq)
    assert first.pdq != changed.pdq or first.phash != changed.phash


def test_thumbnails_fit_in_320_pixels_and_are_jpeg() -> None:
    stored = images.sanitise(samples.png(), BlobType.PNG, max_pixels=MAX_PIXELS)
    small = Image.open(io.BytesIO(images.thumbnail(stored.data, BlobType.PNG, max_pixels=10**7)))
    assert small.format == "JPEG"
    assert small.size == (320, 240)


@pytest.mark.parametrize(
    ("given", "kind", "expected"),
    [
        ("holiday.jpg", BlobType.JPEG, "holiday.jpg"),
        ("../../etc/passwd", BlobType.PNG, "passwd.png"),
        ("C:\\Users\\me\\label scan.PNG", BlobType.PNG, "label scan.png"),
        ("invoice.html", BlobType.PDF, "invoice.pdf"),
        ("<img onerror=x>.gif", BlobType.GIF, "img onerror_x.gif"),
        ("a\x00b\nc.png", BlobType.PNG, "abc.png"),
        ("evil\u202egpj.exe", BlobType.JPEG, "evilgpj.jpg"),
        (None, BlobType.WEBP, "upload.webp"),
        ("...", BlobType.JPEG, "upload.jpg"),
        ("étiquette.jpeg", BlobType.JPEG, "étiquette.jpg"),
    ],
)
def test_filenames_are_sanitised_and_named_after_what_the_file_is(given, kind, expected) -> None:
    assert sanitise_filename(given, kind) == expected
