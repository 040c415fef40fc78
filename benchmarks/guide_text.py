"""Guide text on the hot read paths: Markdown rendering (markdown-it-py, then nh3) of section
sizes up to the 20,000-character limit, and ``validateSerial`` on the worst inputs the pattern
dialect allows — the figures show no pattern/value pair can make a check slow.

    python -m benchmarks.guide_text [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

from alliance.guides import serial
from alliance.guides.markdown import render
from alliance.guides.sections import parse_content

PARAGRAPH = (
    "The **genuine** label is laser-etched; see [the brand site](https://acme.example). "
    "<script>alert(1)</script> Fakes use a *printed* sticker.\n\n- item one\n- item two\n\n"
)
# The most backtracking the dialect admits (variable widths multiplying to MAX_AMBIGUITY).
WORST_PATTERNS = [
    r"[A-Z0-9]{0,63}[A-Z0-9]{0,63}-",  # two overlapping optional runs, never matching
    r"[A-Z0-9]{0,15}[A-Z0-9]{0,15}[A-Z0-9]{0,15}-",
    r"(?:AB|A)(?:BA|B)[AB]{0,64}Z",
    r"\w{0,7}\w{0,7}\w{0,7}\w{0,7}!",
]


def timed(work, rounds: int) -> float:  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    print("markdown render (median):")
    for chars in (200, 2_000, 20_000):
        source = (PARAGRAPH * (chars // len(PARAGRAPH) + 1))[:chars]
        seconds = timed(lambda s=source: render(s), rounds)
        print(f"  {chars:>6} chars: {seconds * 1000:8.2f} ms")
    print("validateSerial, worst-case values (128 chars, no match), median per check:")
    for pattern in WORST_PATTERNS:
        serial.compile_pattern(pattern)
        value = "A1" * 64
        seconds = timed(lambda p=pattern, v=value: serial.check_value(p, v), rounds * 20)
        print(f"  {pattern:<48} {seconds * 1e6:8.1f} µs")
    content = {
        "title": "Benchmark guide",
        "features": [{"id": f"f{i}", "title": f"F{i}", "text": PARAGRAPH * 20} for i in range(200)],
        "serial_formats": [
            {"id": f"s{i}", "name": "S", "pattern": WORST_PATTERNS[i % 4]} for i in range(200)
        ],
    }
    seconds = timed(lambda: parse_content(content), rounds)
    print(f"parse_content, 200 features and 200 serial formats: {seconds * 1000:.1f} ms")


if __name__ == "__main__":
    main()
