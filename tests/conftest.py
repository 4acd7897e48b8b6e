"""Shared pytest fixtures (keep this file small: fixtures used by several test modules only)."""

from __future__ import annotations

import pytest

from companion.settings import Settings, disable_telemetry

disable_telemetry()


@pytest.fixture(scope="session")
def embeddings():
    """The packaged all-MiniLM-L6-v2 embeddings, loaded once per test session (a few seconds)."""
    from companion.embeddings import get_embeddings

    return get_embeddings()


@pytest.fixture
def tmp_settings(tmp_path) -> Settings:
    """Settings whose data_dir (index, sessions, models) is a fresh temporary folder."""
    return Settings(data_dir=tmp_path)
