"""Fixtures shared by the screener tests."""

from __future__ import annotations

import pytest

from safety import judge as judge_mod
from safety import semantic


@pytest.fixture
def rules_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rule and conversation layers only (no MiniLM): fast."""
    monkeypatch.setenv("SAFETY_SEMANTIC", "off")


@pytest.fixture(scope="session")
def semantic_model() -> None:
    """MiniLM and the trained classifier, loaded once per test session."""
    semantic.get_model()
    semantic.load_artefact()


@pytest.fixture(autouse=True)
def no_judge():
    """No LLM judge unless a test sets one (and none leaks into the next test)."""
    judge_mod.set_judge(None)
    yield
    judge_mod.set_judge(None)
