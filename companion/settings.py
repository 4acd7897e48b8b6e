"""Settings: the one documented place for configuration.

Values come from ``COMPANION_*`` environment variables, then a ``.env`` file
in the working directory, then the defaults below. ``OPENAI_API_KEY`` is read
without the prefix, as the OpenAI SDK does.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings", "get_settings", "REPO_ROOT", "disable_telemetry"]

#: Root of a source checkout (the folder holding ``knowledge/`` and ``evals/``).
REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_data_dir() -> Path:
    return REPO_ROOT / ".data"


class Settings(BaseSettings):
    """Effective configuration of the companion.

    Every field can be set as ``COMPANION_<FIELD_NAME>`` (upper case), e.g.
    ``COMPANION_LLM_PROVIDER=openai``.
    """

    model_config = SettingsConfigDict(
        env_prefix="COMPANION_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    # --- LLM -----------------------------------------------------------------
    llm_provider: Literal["local", "openai", "fake"] = Field(
        "local",
        description="local = embedded llama.cpp model (offline); openai = any "
        "OpenAI-compatible endpoint; fake = canned replies (tests and demos only).",
    )
    llm_model: str = Field("gpt-4o-mini", description="Model name for the openai provider.")
    llm_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1."
    )
    openai_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("OPENAI_API_KEY", "COMPANION_OPENAI_API_KEY"),
        description="API key for the openai provider.",
    )
    llm_timeout_s: float = Field(60.0, gt=0, description="Seconds before an LLM call is abandoned.")
    llm_max_retries: int = Field(1, ge=0, le=10, description="Retries of a failed LLM call.")
    reply_time_limit_s: float = Field(
        150.0, gt=0, description="Longest a reply may keep generating (seconds); the embedded model on "
        "2 cores needs 30-60 s per turn, so this only stops a looping or starved model."
    )
    llm_temperature: float = Field(0.4, ge=0, le=2)
    safety_llm_judge: bool = Field(
        False,
        description="Ask the openai-provider LLM to judge messages the safety screener is unsure about "
        "(ambiguous band only; it can only raise a level).",
    )
    llm_max_tokens: int = Field(320, gt=0, le=4096, description="Maximum tokens in one reply.")
    reply_min_words: int = Field(
        60, ge=0, le=170,
        description="A generated reply shorter than this (the style guide's minimum, words) is continued "
        "once with voice.yaml's continue_nudge. 0 turns it off.",
    )
    llm_min_tokens: int = Field(
        100, ge=0, le=1024,
        description="Embedded model only: the end-of-turn token is suppressed until a reply has this many "
        "tokens (the style guide's 60-word minimum is ~80-110 tokens; a 1.5B model otherwise often "
        "stops after one sentence and a question). 0 turns it off.",
    )
    local_model_path: Path | None = Field(
        None, description="Any GGUF file to use instead of the packaged Qwen2.5 1.5B model."
    )
    local_n_ctx: int = Field(4096, ge=512, description="Context window of the embedded model (tokens).")
    local_n_threads: int | None = Field(None, description="CPU threads for llama.cpp (default: all cores).")

    # --- Data, retrieval -----------------------------------------------------
    data_dir: Path = Field(default_factory=_default_data_dir, description="Index, model cache, session DB.")
    collection: str = Field("knowledge", description="Chroma collection name.")
    chroma_url: str | None = Field(
        None, description="Chroma server URL (client/server mode); default is the embedded store in data_dir."
    )
    retrieval_k: int = Field(4, ge=1, le=20, description="Passages retrieved per turn.")
    retrieval_min_relevance: float = Field(
        0.2, ge=0, le=1, description="Passages scoring below this relevance (0..1) are not cited."
    )
    chunk_size: int = Field(900, ge=200, le=8000, description="Characters per chunk at ingestion.")
    chunk_overlap: int = Field(120, ge=0, le=2000)

    # --- Conversation --------------------------------------------------------
    history_turns: int = Field(6, ge=0, le=50, description="Recent messages sent to the model.")
    max_message_chars: int = Field(4000, ge=1, le=100_000, description="Longest accepted user message.")
    locale: str = Field("en-US", description="Default locale, BCP 47 (language-COUNTRY).")

    # --- Clinic --------------------------------------------------------------
    clinic_name: str | None = Field(None, description="Clinic shown in replies and the UI.")
    clinic_contact: str | None = Field(None, description="Therapist / on-call contact, free text.")
    clinic_phone: str | None = None
    clinic_booking_url: str | None = None

    # --- Storage, API --------------------------------------------------------
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the session store; default sqlite in data_dir."
    )
    retention_days: int = Field(30, ge=1, description="Sessions older than this are purged.")
    encryption_key: SecretStr | None = Field(
        None, description="Fernet key: when set, session text is encrypted at rest."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins allowed by CORS (comma-separated or a JSON list)."
    )
    rate_limit: str = Field("30/minute", description="Per API key / client address (limits syntax).")
    require_api_key: bool = Field(True, description="Require an API key on /v1 routes (the widget uses anonymous tokens).")
    widget_enabled: bool = Field(True, description="Serve the embeddable widget and issue its anonymous tokens (POST /v1/widget/token).")
    log_level: str = Field("INFO")

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return Path(os.path.expanduser(str(v))).resolve()

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, v: Any) -> Any:
        if isinstance(v, str):
            if v.strip().startswith("["):
                import json

                return json.loads(v)
            return [o.strip() for o in v.split(",") if o.strip()]
        return v

    # --- Derived paths ---------------------------------------------------------
    @property
    def index_dir(self) -> Path:
        """Folder of the embedded Chroma store."""
        return self.data_dir / "index"

    @property
    def model_dir(self) -> Path:
        """Folder where the packaged GGUF is assembled."""
        return self.data_dir / "models"

    @property
    def effective_database_url(self) -> str:
        """``database_url``, or a SQLite file in ``data_dir``."""
        return self.database_url or f"sqlite:///{self.data_dir / 'sessions.sqlite3'}"

    def masked(self) -> dict[str, Any]:
        """Effective settings as a dict with secrets masked (for ``companion config``)."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********" if value.get_secret_value() else None
            elif isinstance(value, Path):
                value = str(value)
            elif name in {"database_url", "chroma_url", "llm_base_url"} and isinstance(value, str):
                value = _mask_url_password(value)
            out[name] = value
        return out


def _mask_url_password(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":********@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def describe_settings_error(exc: BaseException) -> str:
    """A settings error in the user's terms: the environment variable, the bad value and the expectation.

    Args:
        exc: usually a pydantic ``ValidationError`` raised by :class:`Settings`;
            anything else is returned as ``str(exc)``.

    Returns:
        e.g. ``"COMPANION_RETRIEVAL_K='abc': Input should be a valid integer, ..."``,
        one line per bad variable, ending with where settings come from. Values of
        secret fields are never shown.
    """
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    lines = []
    for err in errors():
        field = str(err.get("loc", ("?",))[0])
        info = Settings.model_fields.get(field)
        env = f"COMPANION_{field.upper()}"
        alias = getattr(info, "validation_alias", None) if info else None
        choices = getattr(alias, "choices", None)
        if choices:
            env = " / ".join(str(c) for c in choices)
        secret = info is not None and "Secret" in str(info.annotation)
        value = "" if secret or "input" not in err else f"={err['input']!r}"
        lines.append(f"{env}{value}: {err.get('msg', 'invalid value')}")
    lines.append("Fix the variable in the environment or in .env (see `companion config` and the README's Configuration section).")
    return "\n".join(lines)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings (cached; call ``get_settings.cache_clear()`` in tests)."""
    return Settings()


_TELEMETRY_ENV = {
    # Chroma product telemetry
    "ANONYMIZED_TELEMETRY": "False",
    # guardrails-ai (OpenTelemetry based)
    "OTEL_SDK_DISABLED": "true",
    # LangSmith / LangChain tracing
    "LANGCHAIN_TRACING_V2": "false",
    "LANGSMITH_TRACING": "false",
    # Streamlit usage statistics
    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    # Hugging Face: offline, no telemetry
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
}


def disable_telemetry() -> None:
    """Turn off every third-party library's telemetry, unless the user set it.

    Sets environment variables before those libraries are imported; values
    already set by the user are kept.
    """
    for key, value in _TELEMETRY_ENV.items():
        os.environ.setdefault(key, value)
