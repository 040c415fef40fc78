"""Files to upload, made here from nothing (Pillow, zlib, bytes): real formats, no fixtures on disk."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageDraw

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


def photo(width: int = 640, height: int = 480, *, seed: int = 0) -> Image.Image:
    """A picture with structure (shapes and a gradient), so perceptual hashes mean something."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for n in range(6):
        x = (n * 97 + seed * 31) % max(width - 80, 1)
        y = (n * 53 + seed * 17) % max(height - 80, 1)
        draw.ellipse((x, y, x + 60 + n * 8, y + 40 + n * 6), fill=(200, 40 * n % 255, 90))
    draw.rectangle((width // 3, height // 3, width // 2, height // 2), fill=(20, 160, 220))
    return image


def encoded(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kwargs)
    return out.getvalue()


XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf'
    b'-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    b'exif:GPSLatitude="52,22.2N"/></rdf:RDF></x:xmpmeta>'
)


def jpeg_with_gps(image: Image.Image | None = None, *, orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[MAKE] = "SpyCam"
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (52.0, 22.0, 12.5), 3: "E", 4: (4.0, 53.0, 33.1)}
    return encoded(
        image or photo(),
        "JPEG",
        exif=exif.tobytes(),
        comment=b"shot at the warehouse",
        xmp=XMP,
    )


def png() -> bytes:
    return encoded(photo(), "PNG")


def webp() -> bytes:
    return encoded(photo(), "WEBP")


def gif() -> bytes:
    return encoded(photo().convert("P", palette=Image.Palette.ADAPTIVE), "GIF")


def pdf() -> bytes:
    return encoded(photo(200, 100), "PDF")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bomb(side: int = 30_000) -> bytes:
    """A valid PNG of side x side black 1-bit pixels: ~110 MB of pixel rows in ~100 kB."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row * 1000) for _ in range(side // 1000))
    body += packer.compress(row * (side % 1000)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", body)
        + _chunk(b"IEND", b"")
    )


HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<rect width='10' height='10'/></svg>"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
# JPEG magic, then a page: what a browser sniffing the content would render as HTML.
JPEG_MAGIC_HTML = b"\xff\xd8\xff\xe0" + HTML
# An HTML page with a PDF (which readers find up to 1 kB in) inside it.
HTML_THEN_PDF = HTML + b"\n" + b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
