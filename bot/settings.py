"""The one place that reads the environment.

Every other module takes a ``Settings`` object (or calls :func:`get_settings`), so
tests can build their own without touching ``os.environ``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    # --- storage -------------------------------------------------------------
    data_dir: Path = Field(Path(".tandem"), alias="TANDEM_DATA_DIR")
    database_url: str | None = Field(None, alias="DATABASE_URL")
    knowledge_dir: Path = Field(REPO_ROOT / "knowledge", alias="TANDEM_KNOWLEDGE_DIR")
    prompts_dir: Path = Field(REPO_ROOT / "prompts", alias="TANDEM_PROMPTS_DIR")
    chroma_path: Path | None = Field(None, alias="CHROMA_PATH")
    chroma_url: str | None = Field(None, alias="CHROMA_URL")
    chroma_collection: str = Field("tandem_kb", alias="CHROMA_COLLECTION")

    # --- retrieval and answers -------------------------------------------------
    retrieval_k: int = Field(3, alias="RETRIEVAL_K", ge=1, le=20)
    # Calibrated on bench/eval (dev split) by `make bench`; see docs/benchmarks.md.
    retrieval_min_similarity: float = Field(0.35, alias="RETRIEVAL_MIN_SIMILARITY")
    max_question_chars: int = Field(4000, alias="MAX_QUESTION_CHARS", ge=100)

    # --- language model (optional) -------------------------------------------
    openai_api_key: SecretStr | None = Field(None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")
    openai_model: str = Field("gpt-4o-mini", alias="OPENAI_MODEL")
    llm_timeout_seconds: float = Field(20.0, alias="LLM_TIMEOUT_SECONDS", gt=0)
    llm_max_tokens: int = Field(600, alias="LLM_MAX_TOKENS", ge=50)

    # --- Slack ---------------------------------------------------------------
    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")
    slack_client_id: str | None = Field(None, alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(None, alias="SLACK_CLIENT_SECRET")

    # Threads that run answers after the ack; acks never wait for them.
    slack_worker_threads: int = Field(16, alias="SLACK_WORKER_THREADS", ge=1, le=256)
    # A friendly "slow down" past this many questions per person per minute.
    user_rate_limit_per_minute: int = Field(12, alias="USER_RATE_LIMIT_PER_MINUTE", ge=1)
    # Links in model output survive only to these domains (and their subdomains).
    link_allowlist: str = Field(
        "nhs.uk,kingsfund.org.uk,gov.uk,england.nhs.uk,tlap.org.uk",
        alias="LINK_ALLOWLIST",
    )

    # --- check-ins and the journal -------------------------------------------
    journal_retention_days: int = Field(365, alias="JOURNAL_RETENTION_DAYS", ge=1)
    # How often the scheduler looks for due work, and how many sends run at once.
    tick_seconds: int = Field(60, alias="TICK_SECONDS", ge=5)
    delivery_workers: int = Field(8, alias="DELIVERY_WORKERS", ge=1, le=64)
    # Workspace-wide posting budget shared by all replicas (0 turns it off); each channel
    # also gets at most one post a second. Keep it under the workspace's real Slack limit.
    slack_sends_per_second: int = Field(20, alias="SLACK_SENDS_PER_SECOND", ge=0)
    # A claim older than this with no send recorded is treated as a crashed send.
    stale_claim_seconds: int = Field(120, alias="STALE_CLAIM_SECONDS", ge=5)
    # The outbox: how long one Web API call may take, how often a post is tried before it
    # is left for a later tick, and the first wait between tries (doubling each time).
    slack_timeout_seconds: float = Field(15.0, alias="SLACK_TIMEOUT_SECONDS", gt=0, le=120)
    outbox_attempts: int = Field(4, alias="OUTBOX_ATTEMPTS", ge=1, le=10)
    outbox_backoff_seconds: float = Field(1.0, alias="OUTBOX_BACKOFF_SECONDS", ge=0, le=60)

    # Key for the hashes that let Tandem find one person's rows again (to erase them) without
    # keeping a readable list of who did what. Defaults to SLACK_SIGNING_SECRET.
    hash_key: SecretStr | None = Field(None, alias="TANDEM_HASH_KEY")
    # Answers are kept this long for "Share in channel" and follow-ups, then deleted.
    answer_memory_hours: int = Field(24, alias="ANSWER_MEMORY_HOURS", ge=1, le=168)

    # --- team channel digests ------------------------------------------------
    # Comma-separated Slack user ids who may set up and preview digests in any channel.
    digest_admins: str = Field("", alias="DIGEST_ADMINS")

    log_level: str = Field("INFO", alias="LOG_LEVEL")
    # text for people, json for log shippers (one object per line, with request ids).
    log_format: str = Field("text", alias="LOG_FORMAT", pattern="^(text|json)$")

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk joins method names onto the base URL; without the slash it breaks.
        return value if value.endswith("/") else value + "/"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            # A plain postgresql:// URL works as written: we use psycopg 3.
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{(self.data_dir / 'tandem.db').resolve()}"

    @property
    def taxonomy_path(self) -> Path:
        """The theme list every feature speaks in (knowledge, prompts, peers, digests)."""
        return self.knowledge_dir / "taxonomy.yaml"

    @property
    def resolved_chroma_path(self) -> Path:
        return (self.chroma_path or self.data_dir / "chroma").resolve()

    @property
    def allowed_link_domains(self) -> tuple[str, ...]:
        return tuple(d.strip().lower() for d in self.link_allowlist.split(",") if d.strip())

    @property
    def oauth_enabled(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    def secret_value(self, name: str) -> str | None:
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else None

    @property
    def llm_configured(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
