"""Settings come from COMPANION_* variables; `config` never shows secrets."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from companion.settings import Settings


def test_environment_overrides_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("COMPANION_LLM_PROVIDER", "openai")
    monkeypatch.setenv("COMPANION_RETRIEVAL_K", "7")
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COMPANION_CORS_ORIGINS", "https://a.example, https://b.example")
    s = Settings()
    assert s.llm_provider == "openai"
    assert s.retrieval_k == 7
    assert s.index_dir == tmp_path.resolve() / "index"
    assert s.cors_origins == ["https://a.example", "https://b.example"]


def test_masked_settings_hide_secrets(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    s = Settings(database_url="postgresql+psycopg://app:hunter2@db:5432/companion")
    masked = s.masked()
    assert "sk-very-secret" not in str(masked)
    assert "hunter2" not in str(masked)
    assert masked["openai_api_key"] == "********"


def test_invalid_values_are_rejected_with_the_field_name(monkeypatch):
    monkeypatch.setenv("COMPANION_RETRIEVAL_K", "zero")
    with pytest.raises(ValidationError, match="retrieval_k"):
        Settings()


def test_a_settings_error_names_the_environment_variable_and_hides_secrets(monkeypatch):
    from companion.settings import describe_settings_error

    monkeypatch.setenv("COMPANION_RETRIEVAL_K", "zero")
    monkeypatch.setenv("COMPANION_LLM_PROVIDER", "gpt")
    with pytest.raises(ValidationError) as info:
        Settings()
    text = describe_settings_error(info.value)
    assert "COMPANION_RETRIEVAL_K='zero'" in text
    assert "COMPANION_LLM_PROVIDER='gpt'" in text and "'local', 'openai' or 'fake'" in text
    assert "pydantic.dev" not in text


def test_cli_reports_a_bad_variable_by_its_name(monkeypatch):
    from typer.testing import CliRunner

    from companion.cli import app
    from companion.settings import get_settings

    monkeypatch.setenv("COMPANION_RETRIEVAL_K", "zero")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["config"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code != 0
    assert "COMPANION_RETRIEVAL_K='zero'" in result.output


def test_default_message_limit_is_4000_characters():
    assert Settings().max_message_chars == 4000
