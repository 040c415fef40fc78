"""Which search backend the settings select, and whether it is reachable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alliance.config import Settings


def backend_of(url: str) -> str:
    return "tantivy" if url.startswith("tantivy://") else "elasticsearch"


def tantivy_path(url: str) -> Path:
    return Path(url.removeprefix("tantivy://"))


async def search_status(settings: Settings, wait_seconds: float = 2.0) -> dict[str, Any]:
    url = settings.search_url
    if backend_of(url) == "tantivy":
        path = tantivy_path(url)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # reported in /readyz, never raised
            return {"status": "down", "backend": "tantivy", "path": str(path), "error": str(exc)}
        ok = os.access(path, os.W_OK)
        return {"status": "ok" if ok else "down", "backend": "tantivy", "path": str(path)}
    from elasticsearch import AsyncElasticsearch

    client = AsyncElasticsearch(
        url, request_timeout=wait_seconds, retry_on_timeout=False, max_retries=0
    )
    try:
        alive = await client.ping()
    except Exception as exc:  # reported in /readyz, never raised
        return {"status": "down", "backend": "elasticsearch", "error": str(exc)[:300]}
    finally:
        await client.close()
    return {"status": "ok" if alive else "down", "backend": "elasticsearch"}
