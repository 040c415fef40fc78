"""A job sender that drops what a write queues (webhooks, scores, thumbnails): the benchmarks
measure the write, not the broker."""

from __future__ import annotations

from alliance.jobs import Job


class NoBroker:
    def send(self, jobs: list[Job]) -> None:
        del jobs
