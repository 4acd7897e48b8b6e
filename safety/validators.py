"""guardrails-ai validators for the companion (input screening + output policy).

Registered names (``@register_validator``, data type ``string``):

* ``companion/screen_input`` -- :class:`ScreenInput`: runs :func:`safety.screen`
  on the user's message; fails when the level is ``crisis`` or higher. The
  assessment is in the result's ``metadata["assessment"]``.
* ``companion/no_means_details`` -- :class:`NoMeansDetails`: no suicide /
  self-harm method or means details (doses, heights, ligatures, weapons,
  "how to"), English and Spanish.
* ``companion/no_diagnosis_or_dosing`` -- :class:`NoDiagnosisOrDosing`: no
  diagnosis of the user, no medication instructions.
* ``companion/non_judgmental`` -- :class:`NonJudgmental`: no shaming, blaming
  or minimising ("just cheer up", "others have it worse", ...).
* ``companion/crisis_resources_present`` -- :class:`CrisisResourcesPresent`:
  when the level is ``crisis``/``emergency`` the reply contains at least one
  number or link of the person's :class:`~safety.resources.ResourceSet`.

Patterns are data: ``safety/data/output_policy.yaml`` (clinician-reviewed,
sources cited there). Failure messages carry rule ids only, never the text
(messages and replies are health data).

Telemetry: ``OTEL_SDK_DISABLED=true`` is set before guardrails is imported,
guardrails' own metrics flag is forced off, and tracing is disabled.

Plain-function access without guardrails: :func:`find_violations`.
"""

from __future__ import annotations

import os as _os

_os.environ.setdefault("OTEL_SDK_DISABLED", "true")

import re  # noqa: E402
import threading  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from functools import lru_cache  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable, ClassVar  # noqa: E402

import yaml  # noqa: E402
from guardrails import OnFailAction, Validator, register_validator  # noqa: E402
from guardrails.classes.validation.validation_result import FailResult, PassResult  # noqa: E402
from guardrails.settings import settings as _gr_settings  # noqa: E402

from safety.levels import Level  # noqa: E402
from safety.resources import ResourceSet, digits, resources_for  # noqa: E402

__all__ = [
    "ScreenInput",
    "NoMeansDetails",
    "NoDiagnosisOrDosing",
    "NonJudgmental",
    "CrisisResourcesPresent",
    "output_validators",
    "find_violations",
    "resources_mentioned",
    "load_policy",
    "PolicyError",
    "POLICY_PATH",
    "disable_guardrails_telemetry",
]

#: Default location of the output policy.
POLICY_PATH = Path(__file__).resolve().parent / "data" / "output_policy.yaml"

_NEGATION_WINDOW = 40  # characters before a match searched for a negator


def disable_guardrails_telemetry() -> None:
    """Force guardrails' metrics and tracing off for this process (idempotent)."""
    try:
        _gr_settings.rc.enable_metrics = False
        _gr_settings.disable_tracing = True
    except Exception:  # pragma: no cover - settings shape changed upstream
        pass
    try:
        from guardrails.utils.hub_telemetry_utils import HubTelemetry

        HubTelemetry._enabled = False
        if HubTelemetry._instance is not None:
            HubTelemetry._instance._enabled = False
    except Exception:  # pragma: no cover
        pass


disable_guardrails_telemetry()


# --------------------------------------------------------------------------- #
# Policy data
# --------------------------------------------------------------------------- #


class PolicyError(ValueError):
    """The output policy YAML is missing or invalid (message names the rule)."""


@dataclass(frozen=True)
class Rule:
    """One compiled pattern: ``id``, ``regex`` and whether negators cancel it."""

    id: str
    regex: re.Pattern[str]
    negatable: bool = False


@dataclass(frozen=True)
class OutputPolicy:
    """Compiled policy: rules per validator key and negator phrases per language."""

    rules: dict[str, tuple[Rule, ...]]
    negators: tuple[str, ...]


_VALIDATOR_KEYS = ("no_means_details", "no_diagnosis_or_dosing", "non_judgmental")


def load_policy(path: str | Path | None = None) -> OutputPolicy:
    """Read, check and compile the output policy.

    Raises:
        PolicyError: missing file, bad YAML, missing validator section, duplicate
            rule id, or a pattern that does not compile (named by rule id).
    """
    p = Path(path) if path is not None else POLICY_PATH
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"cannot load output policy {p}: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("validators"), dict):
        raise PolicyError(f"{p}: needs a 'validators' mapping")
    rules: dict[str, tuple[Rule, ...]] = {}
    seen: set[str] = set()
    for key in _VALIDATOR_KEYS:
        section = raw["validators"].get(key)
        if not isinstance(section, dict) or not isinstance(section.get("rules"), list) or not section["rules"]:
            raise PolicyError(f"{p}: validators.{key}.rules must be a non-empty list")
        compiled: list[Rule] = []
        for i, item in enumerate(section["rules"]):
            if not isinstance(item, dict) or not item.get("id") or not item.get("pattern"):
                raise PolicyError(f"{p}: validators.{key}.rules[{i}] needs 'id' and 'pattern'")
            rid = str(item["id"])
            if rid in seen:
                raise PolicyError(f"{p}: duplicate rule id {rid!r}")
            seen.add(rid)
            try:
                rx = re.compile(str(item["pattern"]), re.IGNORECASE | re.UNICODE)
            except re.error as exc:
                raise PolicyError(f"{p}: rule {rid!r} ({key}) does not compile: {exc}") from exc
            compiled.append(Rule(rid, rx, bool(item.get("negatable", False))))
        rules[key] = tuple(compiled)
    neg_raw = raw.get("negators") or {}
    negators = tuple(
        sorted({str(n).lower() for lst in neg_raw.values() if isinstance(lst, list) for n in lst}, key=len, reverse=True)
    )
    return OutputPolicy(rules=rules, negators=negators)


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _policy() -> OutputPolicy:
    with _lock:
        return load_policy()


def _normalise(text: str) -> str:
    # Curly apostrophes and non-breaking spaces are common in LLM output.
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ")


def _negated(text: str, start: int, negators: tuple[str, ...]) -> bool:
    window = text[max(0, start - _NEGATION_WINDOW) : start].lower()
    # Only look inside the current clause.
    window = re.split(r"[.!?;\n]", window)[-1]
    return any(re.search(r"(?<!\w)" + re.escape(n) + r"(?!\w)", window) for n in negators)


def find_violations(text: str, validator_key: str, *, policy: OutputPolicy | None = None) -> tuple[str, ...]:
    """Rule ids of ``validator_key`` that ``text`` violates (empty = clean).

    Args:
        text: the reply to check.
        validator_key: ``no_means_details`` | ``no_diagnosis_or_dosing`` |
            ``non_judgmental``.
        policy: compiled policy (default: the packaged one, cached).

    Raises:
        KeyError: unknown ``validator_key``.
    """
    pol = policy or _policy()
    rules = pol.rules[validator_key]
    t = _normalise(text or "")
    hits: list[str] = []
    for rule in rules:
        for m in rule.regex.finditer(t):
            if rule.negatable and _negated(t, m.start(), pol.negators):
                continue
            hits.append(rule.id)
            break
    return tuple(hits)


def resources_mentioned(text: str, resources: ResourceSet) -> tuple[str, ...]:
    """Contact tokens of ``resources`` present in ``text``.

    Phone numbers match on digits with separators ignored (``"116 123"`` ==
    ``"116123"``); links match on host/path without scheme or ``www.``.
    """
    t = _normalise(text or "").lower()
    found: list[str] = []
    for tok in resources.contact_tokens():
        if tok.isdigit():
            # digits in order, allowing the separators people write (spaces, -, ., parentheses)
            rx = r"(?<!\d)" + r"[\s\-.()]{0,3}".join(tok) + r"(?!\d)"
            if re.search(rx, t):
                found.append(tok)
        elif tok in t:
            found.append(tok)
    return tuple(found)


# --------------------------------------------------------------------------- #
# Validators
# --------------------------------------------------------------------------- #


class _PolicyValidator(Validator):
    """Base: fails when any rule of ``policy_key`` matches."""

    policy_key: ClassVar[str] = ""

    def __init__(self, on_fail: Callable[..., Any] | OnFailAction | None = None, **kwargs: Any):
        super().__init__(on_fail=on_fail, **kwargs)

    def _validate(self, value: Any, metadata: dict[str, Any]) -> PassResult | FailResult:
        hits = find_violations(str(value), self.policy_key)
        if hits:
            return FailResult(error_message=f"{self.policy_key}: " + ", ".join(hits), metadata={"rules": list(hits)})
        return PassResult()


@register_validator(name="companion/no_means_details", data_type="string")
class NoMeansDetails(_PolicyValidator):
    """Fails on suicide / self-harm method or means details (en + es).

    Lethal doses, mg amounts with overdose context, heights and jumping,
    hanging / ligatures, cutting details, weapon use, gas, "how to" / "best
    way". Rules: ``output_policy.yaml`` > ``no_means_details``.
    """

    policy_key = "no_means_details"


@register_validator(name="companion/no_diagnosis_or_dosing", data_type="string")
class NoDiagnosisOrDosing(_PolicyValidator):
    """Fails on diagnosing the user or giving medication instructions (en + es).

    "you have depression/bipolar/BPD", "you are clinically ...", "take 50 mg
    of ...", "increase your dose", "stop taking your medication". Advice that
    is negated ("don't change your dose without your doctor") passes.
    """

    policy_key = "no_diagnosis_or_dosing"


@register_validator(name="companion/non_judgmental", data_type="string")
class NonJudgmental(_PolicyValidator):
    """Fails on shaming, blaming or minimising language (en + es).

    "you should have ...", "just cheer up", "it's all in your head", "snap out
    of it", "others have it worse", "man up", "stop being dramatic", ...
    """

    policy_key = "non_judgmental"


@register_validator(name="companion/crisis_resources_present", data_type="string")
class CrisisResourcesPresent(Validator):
    """At ``crisis``/``emergency`` level, the reply must show a resource.

    Metadata read from the guard call: ``level`` (:class:`Level` or str,
    default ``none``), ``resources`` (:class:`ResourceSet`) or ``locale``
    (used to look the set up when ``resources`` is absent). Below ``crisis``
    it always passes.
    """

    def __init__(self, on_fail: Callable[..., Any] | OnFailAction | None = None, **kwargs: Any):
        super().__init__(on_fail=on_fail, **kwargs)

    def _validate(self, value: Any, metadata: dict[str, Any]) -> PassResult | FailResult:
        level = Level.parse(metadata.get("level") or Level.NONE)
        if level < Level.CRISIS:
            return PassResult()
        rs = metadata.get("resources")
        if not isinstance(rs, ResourceSet):
            rs = resources_for(metadata.get("locale"))
        if resources_mentioned(str(value), rs):
            return PassResult()
        return FailResult(
            error_message=f"crisis_resources_present: no resource of {rs.country or 'international'} set in reply",
            metadata={"country": rs.country},
        )


@register_validator(name="companion/screen_input", data_type="string")
class ScreenInput(Validator):
    """Input validator wrapping :func:`safety.screen`.

    Fails when the message's level is ``crisis`` or ``emergency``; the
    :class:`~safety.levels.Assessment` is in ``metadata["assessment"]`` of
    both pass and fail results. Guard metadata read: ``history`` (earlier
    user messages), ``locale``.
    """

    def __init__(self, on_fail: Callable[..., Any] | OnFailAction | None = None, **kwargs: Any):
        super().__init__(on_fail=on_fail, **kwargs)

    def _validate(self, value: Any, metadata: dict[str, Any]) -> PassResult | FailResult:
        from safety.screen import screen  # late import: the screener may load models

        assessment = screen(str(value), history=tuple(metadata.get("history") or ()), locale=metadata.get("locale"))
        if assessment.level >= Level.CRISIS:
            return FailResult(
                error_message=f"screen_input: level {assessment.level.value}",
                metadata={"assessment": assessment},
            )
        return PassResult(metadata={"assessment": assessment})


def output_validators(on_fail: OnFailAction = OnFailAction.NOOP) -> list[Validator]:
    """Fresh instances of the four output validators (for ``Guard().use(*...)``)."""
    disable_guardrails_telemetry()
    return [
        NoMeansDetails(on_fail=on_fail),
        NoDiagnosisOrDosing(on_fail=on_fail),
        NonJudgmental(on_fail=on_fail),
        CrisisResourcesPresent(on_fail=on_fail),
    ]
