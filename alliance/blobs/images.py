"""Pure image work on bytes: decode safely, re-encode pixels only, hash, make thumbnails.

Re-encoding the decoded pixels (and nothing else) is what strips EXIF (GPS included), XMP,
IPTC, comments and any bytes appended after the image: none of them survive into the new
file. The EXIF orientation is applied to the pixels first, so the photo still stands upright.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import imagehash
import numpy as np
import pdqhash
from PIL import Image, ImageCms, ImageOps

from alliance.blobs.dimensions import declared_size
from alliance.blobs.errors import BlobErrorCode, refused
from alliance.blobs.sniffing import BlobType

THUMBNAIL_SIZE = 320
HASH_SIZE = 512
_JPEG_QUALITY = 90


@dataclass(frozen=True, slots=True)
class SanitisedImage:
    data: bytes
    width: int
    height: int
    phash: str  # 64 bits, 16 hex digits (imagehash's pHash)
    pdq: str  # 256 bits, 64 hex digits, bit 0 first (ThreatExchange's convention)
    pdq_quality: int


def _bomb(width: int, height: int, max_pixels: int) -> Exception:
    return refused(
        BlobErrorCode.DECOMPRESSION_BOMB,
        f"declares {width}x{height} pixels, more than the limit of {max_pixels}: "
        "refused as a possible decompression bomb",
    )


def _corrupt(kind: BlobType, detail: object) -> Exception:
    return refused(
        BlobErrorCode.CORRUPT_FILE, f"starts like {kind.value} but cannot be decoded ({detail})"
    )


def decode(data: bytes, kind: BlobType, *, max_pixels: int) -> Image.Image:
    """Decode the first frame fully, refusing oversized canvases before any pixel is inflated."""
    declared = declared_size(data, kind)
    if declared is not None and declared[0] * declared[1] > max_pixels:
        raise _bomb(*declared, max_pixels)
    with warnings.catch_warnings():
        # Pillow's own guard warns (and past twice its limit, raises); both mean a bomb here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[kind.pillow_format])
            width, height = image.size
            if width <= 0 or height <= 0:
                raise _corrupt(kind, "no pixels")
            if width * height > max_pixels:
                raise _bomb(width, height, max_pixels)
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise refused(
                BlobErrorCode.DECOMPRESSION_BOMB, f"refused as a decompression bomb ({exc})"
            ) from exc
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
            # Pillow reports truncated and malformed files through any of these.
            raise _corrupt(kind, exc) from exc
    return image


def _to_srgb(image: Image.Image) -> Image.Image:
    """Colour-managed images are converted to sRGB, so dropping the profile keeps the colours."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # an unreadable profile: keep the pixels as they are
    return converted if converted is not None else image


def _pixels_only(image: Image.Image) -> Image.Image:
    """A new image holding the decoded pixels and no metadata, in a mode every encoder takes."""
    upright = ImageOps.exif_transpose(image) or image
    upright = _to_srgb(upright)
    if upright.mode == "P" or upright.mode == "PA":
        upright = upright.convert("RGBA" if "transparency" in upright.info else "RGB")
    elif upright.mode not in ("1", "L", "LA", "RGB", "RGBA"):
        upright = upright.convert("RGBA" if upright.mode.endswith("A") else "RGB")
    return Image.frombytes(upright.mode, upright.size, upright.tobytes())


def encode(image: Image.Image, kind: BlobType) -> bytes:
    out = io.BytesIO()
    if kind is BlobType.JPEG:
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=_JPEG_QUALITY, optimize=True)
    elif kind is BlobType.PNG:
        image.save(out, "PNG", compress_level=6)
    elif kind is BlobType.WEBP:
        image.save(out, "WEBP", quality=_JPEG_QUALITY)
    else:
        image.save(out, "GIF")
    return out.getvalue()


def phash_hex(image: Image.Image) -> str:
    return str(imagehash.phash(image.convert("RGB")))


def pdq_hex(image: Image.Image) -> tuple[str, int]:
    bits, quality = pdqhash.compute(np.asarray(image.convert("RGB")))
    value = int("".join("1" if b else "0" for b in bits), 2)
    return f"{value:064x}", int(quality)


def sanitise(data: bytes, kind: BlobType, *, max_pixels: int) -> SanitisedImage:
    """Validate, strip and hash an image whose magic bytes said ``kind``."""
    decoded = decode(data, kind, max_pixels=max_pixels)
    clean = _pixels_only(decoded)
    if clean.width * clean.height > max_pixels:  # rotation cannot grow it; kept as a guard
        raise _bomb(clean.width, clean.height, max_pixels)
    encoded = encode(clean, kind)
    # Both hashes look at a heavily downsampled image anyway; shrinking to 512 pixels first
    # is ~30x faster on a camera photo, leaves pHash unchanged and moves PDQ by a few of its
    # 256 bits (far below its match threshold of 31; see benchmarks/blob_upload.py).
    hashed = clean.copy()
    hashed.thumbnail((HASH_SIZE, HASH_SIZE), reducing_gap=2.0)
    pdq, quality = pdq_hex(hashed)
    return SanitisedImage(
        data=encoded,
        width=clean.width,
        height=clean.height,
        phash=phash_hex(hashed),
        pdq=pdq,
        pdq_quality=quality,
    )


def thumbnail(data: bytes, kind: BlobType, *, max_pixels: int) -> bytes:
    """A JPEG at most ``THUMBNAIL_SIZE`` pixels on its longer side, from a stored image."""
    image = decode(data, kind, max_pixels=max_pixels)
    image = image.convert("RGBA") if image.mode in ("P", "PA") else image
    if image.mode in ("RGBA", "LA"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        image = background
    elif image.mode != "RGB":
        image = image.convert("RGB")
    image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()
