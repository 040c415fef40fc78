"""Case packages: building (hash chain, ZIP, JWS) and verifying them, by evidence volume.

Pure (no database, no store): what ``exportCasePackage`` and ``alliance evidence verify``
spend beyond reading the files.

    python -m benchmarks.case_package [--rounds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import time
import uuid

from joserfc.jwk import KeySet

from alliance.auth.keys import generate_key
from alliance.cases import manifest, package


def content(files: int, size: int) -> package.PackageContent:
    case_id = str(uuid.uuid4())
    chain: list[manifest.Entry] = []
    blobs: dict[str, bytes] = {}
    for n in range(files):
        data = os.urandom(size)
        sha = hashlib.sha256(data).hexdigest()
        blobs[sha] = data
        chain.append(
            manifest.append(
                case_id,
                chain,
                {
                    "sha256": sha,
                    "size": size,
                    "filename": f"photo-{n}.jpg",
                    "media_type": "image/jpeg",
                    "kind": "PHOTO",
                    "description": "",
                    "received_at": "2026-12-01T00:00:00+00:00",
                    "received_by": "person:x@acme-motors",
                    "received_by_org": "acme-motors",
                },
            )
        )
    return package.PackageContent(
        case_id,
        {"reference": "B-1", "title": "bench"},
        chain,
        blobs,
        "https://a.example",
        "2026-12-01T00:00:00+00:00",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    key = generate_key()
    jwks = KeySet([key]).as_dict(private=False)
    print(
        f"{'files':>6} {'file size':>10} {'total MB':>9} {'build ms':>9} {'verify ms':>10} {'verify MB/s':>12}"
    )
    for files, size in ((10, 100_000), (100, 100_000), (50, 2_000_000), (500, 20_000)):
        c = content(files, size)
        builds, verifies = [], []
        for _ in range(args.rounds):
            started = time.perf_counter()
            data = package.build(c, key)
            builds.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = package.verify(data, jwks)
            verifies.append(time.perf_counter() - started)
            assert result.ok, result.problems
        total = files * size / 1e6
        build, verify = statistics.median(builds), statistics.median(verifies)
        print(
            f"{files:>6} {size:>10} {total:>9.1f} {build * 1000:>9.0f} {verify * 1000:>10.0f} {total / verify:>12.0f}"
        )


if __name__ == "__main__":
    main()
