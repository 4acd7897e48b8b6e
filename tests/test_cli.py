"""The command line as a user meets it: clear output, clear errors, honest exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from companion.cli import EXIT_BAD_INPUT, EXIT_FALLBACK, app
from companion.settings import get_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COMPANION_LLM_PROVIDER", "fake")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_ask_json_prints_one_object_with_the_documented_keys():
    result = runner.invoke(app, ["ask", "I had a rough day at work", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("reply", "level", "categories", "resources", "sources"):
        assert key in data
    assert data["level"] == "none"
    assert data["reply"]


def test_ask_crisis_json_has_resources():
    result = runner.invoke(app, ["ask", "I want to end my life", "--json", "--locale", "en-GB"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["level"] in {"crisis", "emergency"}
    assert data["resources"]["resources"]


@pytest.mark.parametrize("message", ["", "   "])
def test_ask_empty_message_is_a_clear_input_error(message):
    result = runner.invoke(app, ["ask", message])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "empty" in result.output
    assert "Traceback" not in result.output


def test_ask_too_long_message_names_the_limit():
    result = runner.invoke(app, ["ask", "a calm sentence. " * 400])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "4,000" in result.output


def test_dead_endpoint_gives_fallback_reply_and_names_the_fix(monkeypatch):
    monkeypatch.setenv("COMPANION_LLM_PROVIDER", "openai")
    monkeypatch.setenv("COMPANION_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("COMPANION_LLM_MAX_RETRIES", "0")
    monkeypatch.setenv("COMPANION_LLM_TIMEOUT_S", "3")
    get_settings.cache_clear()
    result = runner.invoke(app, ["ask", "I feel stuck lately"])
    assert result.exit_code == EXIT_FALLBACK, result.output
    assert "COMPANION_LLM_BASE_URL" in result.output
    assert "still here" in result.output or "I hear you" in result.output
    assert "Traceback" not in result.output


def test_config_masks_secrets(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-print")
    get_settings.cache_clear()
    result = runner.invoke(app, ["config", "--json"])
    assert result.exit_code == 0
    assert "sk-should-not-print" not in result.output
    assert json.loads(result.stdout)["llm_provider"] == "fake"


def test_screen_prints_the_assessment_as_json():
    result = runner.invoke(app, ["screen", "this commute is killing me"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["level"] == "none"
    assert set(data) >= {"level", "categories", "evidence"}


def test_python_dash_m_companion_works_like_the_script():
    proc = subprocess.run([sys.executable, "-m", "companion", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    for command in ("ask", "chat", "ingest", "config", "screen"):
        assert command in proc.stdout


def test_sources_of_one_note_are_listed_once_with_all_their_numbers():
    from types import SimpleNamespace

    from companion.cli import _print_sources, out

    reply = SimpleNamespace(sources=[
        SimpleNamespace(number=1, title="Backsliding", source="knowledge/b.md"),
        SimpleNamespace(number=2, title="Grounding", source="knowledge/g.md"),
        SimpleNamespace(number=3, title="Backsliding", source="knowledge/b.md"),
    ])
    with out.capture() as captured:
        _print_sources(reply)
    text = captured.get()
    assert text.count("Backsliding") == 1
    assert "[1][3] Backsliding" in text and "[2] Grounding" in text
