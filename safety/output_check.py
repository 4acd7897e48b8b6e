"""Output check: run the guardrails-ai output validators on one LLM reply.

The turn pipeline calls::

    verdict = check_output(reply_text, level=assessment.level, locale="es-MX",
                           resources=rs)
    if not verdict.passed:
        ...  # show the safe fallback reply instead

It runs ``Guard().use(NoMeansDetails, NoDiagnosisOrDosing, NonJudgmental,
CrisisResourcesPresent)`` (see :mod:`safety.validators`). The guard is built
once per process; a call takes a few milliseconds.

Fail closed: any error inside guardrails or a validator gives
``passed=False`` with failure ``"guardrails_error"`` -- never an exception,
never a reply shown unchecked. Re-screening the reply with
:func:`safety.screen` is the pipeline's job, not this module's.

Privacy: the verdict carries validator names and rule ids only, never the
reply text; guardrails' call history is cleared after each check.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from safety.levels import Level
from safety.resources import ResourceSet

__all__ = ["OutputVerdict", "check_output", "warm_up", "VALIDATOR_NAMES"]

log = logging.getLogger(__name__)

#: Names reported in :attr:`OutputVerdict.failures` (class names of the validators).
VALIDATOR_NAMES: tuple[str, ...] = (
    "NoMeansDetails",
    "NoDiagnosisOrDosing",
    "NonJudgmental",
    "CrisisResourcesPresent",
)
GUARDRAILS_ERROR = "guardrails_error"


@dataclass(frozen=True)
class OutputVerdict:
    """Result of :func:`check_output`.

    Attributes:
        passed: True when every validator passed.
        failures: names of failed validators (``"NoMeansDetails"``, ...), or
            ``("guardrails_error",)`` when the check itself failed.
        details: short machine-written reasons (rule ids / error type), never
            the reply text.
        elapsed_ms: wall time of the check in milliseconds.
    """

    passed: bool
    failures: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "passed": self.passed,
            "failures": list(self.failures),
            "details": list(self.details),
            "elapsed_ms": round(self.elapsed_ms, 2),
        }


_guard_lock = threading.Lock()
_guard: Any = None


def _build_guard() -> Any:
    from guardrails import Guard

    from safety.validators import disable_guardrails_telemetry, output_validators

    guard = Guard(history_max_length=1)
    try:
        guard.configure(allow_metrics_collection=False)
    except TypeError:  # pragma: no cover - older guardrails signature
        pass
    disable_guardrails_telemetry()  # configure() reloads the rc file
    # One .use() call: each .use(on="output") replaces the previous validators.
    guard.use(*output_validators())
    return guard


def _get_guard() -> Any:
    global _guard
    if _guard is None:
        _guard = _build_guard()
    return _guard


def warm_up() -> None:
    """Import guardrails and build the guard now (about 2 s), not on the first reply."""
    with _guard_lock:
        _get_guard()


def _clear_history(guard: Any) -> None:
    try:
        guard.history.clear()
    except Exception:  # pragma: no cover - history type changed upstream
        pass


def check_output(
    reply_text: str,
    *,
    level: Level | str = Level.NONE,
    locale: str | None = None,
    resources: ResourceSet | None = None,
) -> OutputVerdict:
    """Check one LLM reply against the output policy.

    Args:
        reply_text: the reply about to be shown.
        level: the turn's safety level; at ``crisis``/``emergency`` the reply
            must contain one of the person's resources.
        locale: locale for looking resources up when ``resources`` is None.
        resources: the :class:`ResourceSet` shown to the person.

    Returns:
        :class:`OutputVerdict`. Never raises: internal errors fail closed.
    """
    start = time.perf_counter()
    try:
        lvl = Level.parse(level)
        with _guard_lock:
            guard = _get_guard()
            try:
                outcome = guard.validate(
                    str(reply_text),
                    metadata={"level": lvl, "locale": locale, "resources": resources},
                )
                summaries = list(getattr(outcome, "validation_summaries", None) or [])
                passed = bool(getattr(outcome, "validation_passed", False))
                error = getattr(outcome, "error", None)
            finally:
                _clear_history(guard)
        failures: list[str] = []
        details: list[str] = []
        for s in summaries:
            if str(getattr(s, "validator_status", "")).lower() == "fail":
                name = str(getattr(s, "validator_name", "unknown"))
                if name not in failures:
                    failures.append(name)
                reason = getattr(s, "failure_reason", None)
                if reason:
                    details.append(str(reason))
        if error:
            failures.append(GUARDRAILS_ERROR)
            details.append("guardrails reported an error")
        if not passed and not failures:
            # guardrails said "failed" without saying why: fail closed, visibly.
            failures.append(GUARDRAILS_ERROR)
            details.append("validation failed without a summary")
        elapsed = (time.perf_counter() - start) * 1000
        verdict = OutputVerdict(
            passed=passed and not failures, failures=tuple(failures), details=tuple(details), elapsed_ms=elapsed
        )
    except Exception as exc:  # fail closed, never crash the turn
        elapsed = (time.perf_counter() - start) * 1000
        log.warning("output check failed closed: %s", type(exc).__name__)
        verdict = OutputVerdict(
            passed=False, failures=(GUARDRAILS_ERROR,), details=(type(exc).__name__,), elapsed_ms=elapsed
        )
    if not verdict.passed:
        log.info("output check: failed %s in %.1f ms", ",".join(verdict.failures), verdict.elapsed_ms)
    return verdict
