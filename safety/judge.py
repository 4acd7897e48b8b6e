"""Layer 5 (optional): an LLM judge for the ambiguous band only.

The safety package imports nothing from ``companion``; a host application
that has a capable LLM registers a judge::

    from safety.judge import set_judge
    set_judge(lambda text, history: Level.CRISIS if ... else None)

Contract of the callable: ``judge(text: str, history: tuple[str, ...]) ->
Level | str | None``. It is called only when the semantic layer's score falls
in its ambiguous band and no rule reached ``crisis`` (see
:mod:`safety.screen`), it is never the only layer, and its answer can only
RAISE the level (a lower answer is ignored). ``None`` means "no opinion".

If the judge raises, the screener fails closed (``crisis``), as for any other
exception inside screening -- the design's rule "if screening raises, treat
the message as crisis" (docs: DESIGN.md, Fail closed). A host whose LLM is
flaky should catch its own errors and return ``None``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from safety.levels import Level

__all__ = ["Judge", "set_judge", "get_judge", "run_judge"]

Judge = Callable[[str, tuple[str, ...]], "Level | str | None"]

_lock = threading.Lock()
_judge: Judge | None = None


def set_judge(judge: Judge | None) -> None:
    """Register (or, with ``None``, remove) the process-wide judge.

    Raises:
        TypeError: ``judge`` is neither callable nor ``None``.
    """
    global _judge
    if judge is not None and not callable(judge):
        raise TypeError(f"set_judge() expects a callable or None, got {type(judge).__name__}")
    with _lock:
        _judge = judge


def get_judge() -> Judge | None:
    """The registered judge, or ``None``."""
    return _judge


def run_judge(text: str, history: Sequence[str]) -> Level | None:
    """Ask the registered judge; ``None`` when none is registered or it abstains.

    Raises:
        ValueError: the judge returned something that is not a level name.
        Exception: whatever the judge raised (the screener fails closed).
    """
    judge = _judge
    if judge is None:
        return None
    verdict = judge(text, tuple(history))
    if verdict is None:
        return None
    return Level.parse(verdict)
