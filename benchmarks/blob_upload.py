"""Blob upload validation: sniff, decode, strip metadata by re-encoding, pHash and PDQ, per photo.

The CPU-bound part of ``store_upload`` (``alliance.blobs.service._validate``) and of the
thumbnail task, timed on generated photos of a few sizes (JPEG with EXIF GPS, PNG), plus how
fast a decompression bomb is refused (it must be, before any pixel is inflated). It also
prints how many PDQ bits hashing the 512-pixel reduction costs against hashing at full size.

    python -m benchmarks.blob_upload [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

from alliance.blobs import images
from alliance.blobs.service import _validate
from alliance.blobs.sniffing import BlobType
from alliance.errors import InvalidInput
from tests.alliance.blobs import samples

MAX_BYTES = 50 * 1024 * 1024
MAX_PIXELS = 40_000_000


def timed(work, rounds: int) -> float:  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for width, height in ((1024, 768), (2048, 1536), (4000, 3000)):
        photo = samples.photo(width, height)
        for fmt, data in (
            ("JPEG", samples.jpeg_with_gps(photo)),
            ("PNG", samples.encoded(photo, "PNG")),
        ):
            kind = BlobType.JPEG if fmt == "JPEG" else BlobType.PNG
            accepted = _validate(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
            upload = timed(
                lambda d=data: _validate(d, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS),
                args.rounds,
            )
            thumb = timed(
                lambda a=accepted, k=kind: images.thumbnail(a.data, k, max_pixels=MAX_PIXELS),
                args.rounds,
            )
            assert accepted.image is not None
            full_pdq, _ = images.pdq_hex(photo)  # hashed at full size, for comparison
            moved = (int(full_pdq, 16) ^ int(accepted.image.pdq, 16)).bit_count()
            print(
                f"{fmt:4} {width}x{height} {len(data) / 1e6:6.2f} MB  "
                f"validate+strip+hash {upload:8.1f} ms  thumbnail {thumb:7.1f} ms  "
                f"PDQ bits off full-size hashing {moved}"
            )
    bomb = samples.png_bomb()

    def refuse() -> None:
        try:
            _validate(bomb, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
        except InvalidInput:
            return
        raise AssertionError("the bomb was accepted")

    print(f"PNG bomb 30000x30000 {len(bomb) / 1e3:.0f} kB  refused in {timed(refuse, 20):.3f} ms")


if __name__ == "__main__":
    main()
