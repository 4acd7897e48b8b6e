"""Forget in-memory copies of a deleted conversation.

The API keeps no transcript cache of its own (every read goes to the
session store). The one in-process place that can still hold a deleted
conversation is the embedded llama.cpp model's KV cache, which keeps the
last prompt (system prompt + recent turns) to reuse its prefix. After a
delete it is reset, so the next prompt is evaluated from scratch. The safety
layer's caches are keyed by SHA-256 and hold vectors/signals, not text.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["forget_cached_text"]

log = logging.getLogger(__name__)


def forget_cached_text(companion: Any) -> bool:
    """Reset the embedded model's KV cache if that model is loaded; ``True`` when reset.

    Never loads a model; any error is logged (type only) and ignored: the
    delete itself already succeeded in the store.
    """
    llm = getattr(companion, "_llm", None)
    try:
        from companion.llm import LlamaCppChat, load_llama
    except ImportError:  # pragma: no cover - depends on the install
        return False
    if not isinstance(llm, LlamaCppChat) or load_llama.cache_info().currsize == 0:
        return False
    try:
        with llm._lock:  # noqa: SLF001 - the adapter's own generation lock
            llm.client.reset()
        return True
    except Exception as exc:  # noqa: BLE001
        log.warning("could not reset the model's KV cache after a delete: %s", type(exc).__name__)
        return False
