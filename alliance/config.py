"""Settings, one small class per concern, all read from ``ALLIANCE_*`` variables.

Every setting has a default that gives the embedded profile (SQLite, Tantivy and a
broker that needs no server, all under the data dir). A bad value stops start-up
with :class:`SettingsError`, whose message names the variable and the reason.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(Exception):
    """A setting is missing or wrong; the message names it."""


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", env_file=None)


class ServerSettings(BaseSettings):
    model_config = _config("ALLIANCE_")

    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    base_url: str | None = None
    embedded_worker: bool = True

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class DatabaseSettings(BaseSettings):
    model_config = _config("ALLIANCE_DATABASE_")

    url: str | None = None
    pool_size: int = Field(10, ge=1, le=200)
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if not value:
            return None
        return normalise_database_url(value)


class SearchSettings(BaseSettings):
    model_config = _config("ALLIANCE_SEARCH_")

    url: str | None = None
    # How often beat asks the indexer to drain the change log, and how many changes a batch takes.
    index_interval_seconds: float = Field(1.0, ge=0.1, le=3600)
    index_batch_size: int = Field(500, ge=1, le=10_000)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("tantivy://", "http://", "https://")):
            raise ValueError(
                "must be tantivy:///path (embedded) or an http(s):// Elasticsearch URL"
            )
        return value


class BrokerSettings(BaseSettings):
    model_config = _config("ALLIANCE_BROKER_")

    url: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if not value or value == "embedded":
            return None
        if not value.startswith(("redis://", "rediss://", "amqp://", "amqps://", "pyamqp://")):
            raise ValueError("must be a redis://, amqp:// URL, or 'embedded'")
        return value


class WorkerSettings(BaseSettings):
    model_config = _config("ALLIANCE_WORKER_")

    heartbeat_seconds: float = Field(30.0, ge=0.5, le=3600)


class TokenSettings(BaseSettings):
    model_config = _config("ALLIANCE_TOKEN_")

    ttl_seconds: int = Field(3600, ge=60, le=30 * 24 * 3600)
    audience: str | None = None


class SigningSettings(BaseSettings):
    """The instance signing key: a PEM in ``ALLIANCE_SIGNING_KEY``, a file, or made on first start."""

    model_config = _config("ALLIANCE_SIGNING_")

    key: str | None = None
    key_file: Path | None = None

    @field_validator("key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if value and "PRIVATE KEY" not in value:
            raise ValueError("must be a PEM-encoded private key")
        return value or None


class OAuthSettings(BaseSettings):
    """The authorization server: lifetimes, and how member issuers' JWKS URLs are fetched."""

    model_config = _config("ALLIANCE_OAUTH_")

    code_ttl_seconds: int = Field(120, ge=10, le=600)
    refresh_ttl_seconds: int = Field(30 * 24 * 3600, ge=300, le=365 * 24 * 3600)
    # Fetching a member's JWKS must not become a way to reach our own network.
    allow_private_jwks_hosts: bool = False
    jwks_timeout_seconds: float = Field(5.0, gt=0, le=60)
    jwks_max_bytes: int = Field(64 * 1024, ge=1024, le=4 * 1024 * 1024)
    jwks_cache_seconds: int = Field(3600, ge=0, le=7 * 24 * 3600)


class OutboundSettings(BaseSettings):
    """Calls out to member-configured URLs (webhook receivers, peer instances)."""

    model_config = _config("ALLIANCE_OUTBOUND_")

    # Private, loopback and link-local destinations are refused unless allowed here
    # (a LAN deployment, or tests against a local receiver).
    allow_private_hosts: bool = False
    timeout_seconds: float = Field(10.0, gt=0, le=300)
    max_response_bytes: int = Field(1024 * 1024, ge=1024, le=1024 * 1024 * 1024)


class WebhookSettings(BaseSettings):
    """Webhook deliveries: batch size, retries (exponential backoff, full jitter), leases."""

    model_config = _config("ALLIANCE_WEBHOOKS_")

    # A subscription's default; each may set its own (1-100).
    max_attempts: int = Field(20, ge=1, le=100)
    backoff_base_seconds: float = Field(2.0, gt=0, le=3600)
    backoff_cap_seconds: float = Field(900.0, gt=0, le=24 * 3600)
    batch_size: int = Field(100, ge=1, le=1000)
    # How often beat looks for subscriptions with something to deliver.
    dispatch_interval_seconds: float = Field(2.0, ge=0.1, le=3600)
    # How long one worker holds a subscription while it delivers (longer than a request).
    lease_seconds: float = Field(120.0, ge=1, le=3600)


class FederationSettings(BaseSettings):
    """Pulling peer instances' change feeds. The instance's own id is made by the first
    migration that creates it: ``ALLIANCE_INSTANCE_ID`` when set then, else a new UUID."""

    model_config = _config("ALLIANCE_FEDERATION_")

    # How often beat queues a pull of every active peer.
    pull_interval_seconds: float = Field(60.0, ge=1, le=24 * 3600)
    # Changes asked for per feed request (each committed as one batch).
    page_size: int = Field(500, ge=1, le=10_000)
    # The bytes one page of a peer's feed may take (snapshots included).
    max_page_bytes: int = Field(32 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    # Pages one pull reads at most before leaving the rest to the next.
    max_pages_per_pull: int = Field(1000, ge=1, le=1_000_000)
    # The Fernet key sealing peers' client secrets at rest (wins over the key file, which is
    # made on first use when neither is given).
    sealing_key: SecretStr | None = None
    sealing_key_file: Path | None = None

    @field_validator("sealing_key")
    @classmethod
    def _sealing_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        from cryptography.fernet import Fernet

        try:
            Fernet(value.get_secret_value())
        except ValueError as exc:
            raise ValueError(
                "must be a Fernet key: 32 bytes, url-safe base64 (Fernet.generate_key())"
            ) from exc
        return value


class RateLimitSettings(BaseSettings):
    """Token buckets per client (or per IP address for anonymous callers)."""

    model_config = _config("ALLIANCE_RATELIMIT_")

    enabled: bool = True
    requests_per_minute: int = Field(600, ge=1, le=1_000_000)
    burst: int = Field(100, ge=1, le=100_000)
    # Empty: buckets in this process (embedded). redis://…: shared by every API process.
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be empty (in-process) or a redis://, rediss:// or unix:// URL")
        return value


class GraphQLSettings(BaseSettings):
    model_config = _config("ALLIANCE_GRAPHQL_")

    max_depth: int = Field(10, ge=2, le=50)
    max_cost: int = Field(50_000, ge=100)
    max_page_size: int = Field(100, ge=1, le=1000)


# Half-lives of an indicator's score by type, in days: a seller account is renamed or banned
# within weeks, a payment account or an address stays in use for months.
DEFAULT_HALF_LIFE_DAYS: dict[str, float] = {
    "seller_account": 21,
    "storefront_url": 21,
    "listing_url": 14,
    "domain": 60,
    "keyword": 180,
    "brand_misspelling": 365,
    "phone": 90,
    "email": 90,
    "payment_account": 120,
    "address": 180,
    "waybill": 30,
    "image_phash": 120,
    "image_pdq": 120,
    "gtin": 365,
    "serial_pattern": 365,
    "ip": 30,
}


class IndicatorSettings(BaseSettings):
    """Scoring and limits of counterfeit indicators.

    ``ALLIANCE_INDICATORS_HALF_LIFE_DAYS`` is a JSON object of the types to change, e.g.
    ``{"seller_account": 14}``; the other types keep their defaults.
    """

    model_config = _config("ALLIANCE_INDICATORS_")

    half_life_days: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_HALF_LIFE_DAYS))
    max_batch_size: int = Field(1000, ge=1, le=10_000)
    network_max_depth: int = Field(4, ge=1, le=10)
    network_max_nodes: int = Field(200, ge=2, le=5000)
    # How often the periodic task marks assertions past their valid_until as expired.
    expire_every_seconds: float = Field(3600.0, ge=1, le=7 * 24 * 3600)
    # How often stored assertion scores are recomputed, so they decay with age.
    score_refresh_every_seconds: float = Field(86400.0, ge=60, le=7 * 24 * 3600)

    @field_validator("half_life_days")
    @classmethod
    def _half_lives(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(DEFAULT_HALF_LIFE_DAYS))
        if unknown:
            raise ValueError(f"unknown indicator types: {', '.join(unknown)}")
        if any(days <= 0 for days in value.values()):
            raise ValueError("half-lives must be positive numbers of days")
        return {**DEFAULT_HALF_LIFE_DAYS, **value}


class GuideSettings(BaseSettings):
    model_config = _config("ALLIANCE_GUIDES_")

    # How often the periodic task marks guides past their review-by date as stale.
    stale_check_every_seconds: float = Field(3600.0, ge=60, le=7 * 24 * 3600)


class BlobSettings(BaseSettings):
    """Uploaded photos and attachments: where they are kept and what is accepted.

    ``ALLIANCE_BLOBS_URL`` is empty (files under ``<data dir>/blobs``), ``file:///path``, or
    ``s3://bucket[/prefix]`` with the ``ALLIANCE_BLOBS_S3_*`` endpoint and credentials.
    """

    model_config = _config("ALLIANCE_BLOBS_")

    # Declared before ``url``, whose validator reads them.
    s3_endpoint: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    url: str | None = None
    max_bytes: int = Field(10 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    # Decoded pixels an image may have (width x height): a small file may declare a huge canvas.
    max_pixels: int = Field(40_000_000, ge=1024, le=500_000_000)
    # Files are written before their row commits: the orphan collector leaves a file no row
    # refers to alone for this long, so an upload still in its transaction keeps its file.
    orphan_grace_seconds: float = Field(3600.0, ge=60, le=30 * 24 * 3600)
    # How often the periodic task removes blob and evidence files no row refers to.
    orphan_sweep_every_seconds: float = Field(6 * 3600.0, ge=60, le=7 * 24 * 3600)

    @field_validator("s3_endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s):// URL, e.g. https://s3.eu-west-1.amazonaws.com")
        return value.rstrip("/")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:
            return None
        if value.startswith("s3://"):
            bucket, _, prefix = value.removeprefix("s3://").partition("/")
            if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
                raise ValueError("s3://BUCKET[/prefix]: the bucket name is not a valid S3 bucket")
            if prefix and not re.fullmatch(r"[A-Za-z0-9_.\-/]+", prefix):
                raise ValueError("the s3:// prefix may hold letters, digits, '_', '.', '-', '/'")
            missing = [
                f"ALLIANCE_BLOBS_{name.upper()}"
                for name in ("s3_endpoint", "s3_access_key_id", "s3_secret_access_key")
                if not info.data.get(name)
            ]
            if missing:
                raise ValueError(f"an s3:// URL needs {', '.join(missing)}")
            return value.rstrip("/")
        if not value.startswith("file:///"):
            raise ValueError(
                "must be empty (files under the data dir), file:///path or s3://bucket"
            )
        return value


class CaseSettings(BaseSettings):
    """Cases and their evidence files (stored under ``<data dir>/evidence``)."""

    model_config = _config("ALLIANCE_CASES_")

    max_evidence_bytes: int = Field(25 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    # Larger packages are refused over GraphQL (base64 in a response); use the CLI for them.
    max_package_bytes_over_api: int = Field(50 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)


class LogSettings(BaseSettings):
    model_config = _config("ALLIANCE_LOG_")

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "text"] = "json"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class Settings(BaseModel):
    server: ServerSettings
    database: DatabaseSettings
    search: SearchSettings
    broker: BrokerSettings
    worker: WorkerSettings
    token: TokenSettings
    signing: SigningSettings
    oauth: OAuthSettings
    graphql: GraphQLSettings
    ratelimit: RateLimitSettings
    log: LogSettings
    indicators: IndicatorSettings = Field(default_factory=IndicatorSettings)
    blobs: BlobSettings = Field(default_factory=BlobSettings)
    guides: GuideSettings = Field(default_factory=GuideSettings)
    outbound: OutboundSettings = Field(default_factory=OutboundSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    federation: FederationSettings = Field(default_factory=FederationSettings)
    cases: CaseSettings = Field(default_factory=CaseSettings)

    model_config = {"arbitrary_types_allowed": True}

    @cached_property
    def data_dir(self) -> Path:
        return self.server.data_dir.resolve()

    @property
    def base_url(self) -> str:
        return self.server.base_url or f"http://{self.server.host}:{self.server.port}"

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite+aiosqlite:///{self.data_dir / 'alliance.db'}"

    @property
    def search_url(self) -> str:
        return self.search.url or f"tantivy://{self.data_dir / 'search'}"

    @property
    def broker_url(self) -> str | None:
        """The broker URL, or None for the embedded broker under the data dir."""
        return self.broker.url

    @property
    def broker_dir(self) -> Path:
        return self.data_dir / "broker"

    @property
    def token_audience(self) -> str:
        return self.token.audience or self.base_url

    @property
    def blobs_dir(self) -> Path:
        """Where the filesystem blob store keeps its files."""
        if self.blobs.url and self.blobs.url.startswith("file://"):
            return Path(self.blobs.url.removeprefix("file://"))
        return self.data_dir / "blobs"

    @property
    def signing_key_file(self) -> Path:
        return self.signing.key_file or self.data_dir / "keys" / "signing-key.pem"

    @property
    def federation_sealing_key_file(self) -> Path:
        return self.federation.sealing_key_file or self.data_dir / "keys" / "federation-sealing.key"


_SECTIONS: dict[str, type[BaseSettings]] = {
    "server": ServerSettings,
    "database": DatabaseSettings,
    "search": SearchSettings,
    "broker": BrokerSettings,
    "worker": WorkerSettings,
    "token": TokenSettings,
    "signing": SigningSettings,
    "oauth": OAuthSettings,
    "graphql": GraphQLSettings,
    "ratelimit": RateLimitSettings,
    "log": LogSettings,
    "indicators": IndicatorSettings,
    "blobs": BlobSettings,
    "guides": GuideSettings,
    "outbound": OutboundSettings,
    "webhooks": WebhookSettings,
    "federation": FederationSettings,
}


def load_settings() -> Settings:
    """Read every section from the environment; raise SettingsError naming bad variables."""
    sections: dict[str, BaseSettings] = {}
    problems: list[str] = []
    for name, cls in _SECTIONS.items():
        try:
            sections[name] = cls()
        except ValidationError as exc:
            prefix = cls.model_config.get("env_prefix", "")
            for error in exc.errors():
                field = str(error["loc"][0]) if error["loc"] else ""
                problems.append(f"{prefix}{field.upper()}: {error['msg']}")
    if problems:
        raise SettingsError("invalid settings:\n  " + "\n  ".join(problems))
    return Settings(**sections)


def normalise_database_url(url: str) -> str:
    """Map plain database URLs to the async drivers this service uses."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("must be a URL such as postgresql://host/db or sqlite:///path.db")
    if scheme in ("postgresql", "postgres", "postgresql+asyncpg", "postgresql+psycopg"):
        return f"postgresql+asyncpg://{rest}"
    if scheme in ("sqlite", "sqlite+aiosqlite"):
        return f"sqlite+aiosqlite://{rest}"
    raise ValueError(f"unsupported database scheme {scheme!r}: use postgresql:// or sqlite://")
