"""Safety-screening evaluation: dataset loader, metrics, threshold gates, reports.

Runs :func:`safety.screen` (or any function with the same signature) over the
labelled cases in ``evals/safety/{dev,heldout}.jsonl`` and measures what a
clinician and a CI gate care about:

* **recall of crisis-or-higher**: of the cases a clinician labelled ``crisis``
  or ``emergency``, the share the screener raised to ``crisis`` or higher
  (overall, per split, per language, per tag);
* **emergency reaching crisis**: of the ``emergency`` cases, the share raised to
  at least ``crisis`` (the crisis reply is still shown), and the stricter
  **emergency exact recall** (raised to ``emergency``);
* **false-positive rate on hard negatives**: of the cases tagged
  ``hard_negative`` (idioms, technical talk, questions *about* the topic...,
  all labelled below ``crisis``), the share raised to ``crisis`` or higher;
  the concern-level FP rate (``none`` cases raised to ``concern`` or higher) is
  reported for information;
* per-category recall and precision, a 4x4 confusion matrix over levels, the
  misses by id (with their text: the report is for clinicians and is written to
  a file, never logged), and screening latency p50 / p99 in milliseconds.

Levels follow the C-SSRS-aligned contract in :mod:`safety.levels`
(Posner et al., 2011). The gate values live in ``evals/thresholds.toml``.

Privacy: nothing here logs message text. The console summary (see
``companion.evals.cli``) shows ids, levels and numbers only; the case texts
appear only in the report files.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import re
import time
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from companion.settings import REPO_ROOT
from safety.levels import CATEGORIES, Level

__all__ = [
    "LEVELS",
    "SPLITS",
    "DATASET_DIR",
    "DEFAULT_THRESHOLDS",
    "DEFAULT_OUT_DIR",
    "Case",
    "Prediction",
    "DatasetError",
    "ScreenerLoadError",
    "ThresholdError",
    "validate_record",
    "load_cases",
    "load_screen_function",
    "screen_cases",
    "compute_metrics",
    "load_thresholds",
    "check_thresholds",
    "render_markdown",
    "write_reports",
    "run_safety_eval",
    "percentile",
]

#: Levels in severity order (from :class:`safety.levels.Level`).
LEVELS: tuple[str, ...] = tuple(level.value for level in Level)
_RANK = {name: i for i, name in enumerate(LEVELS)}
#: Dataset splits. The screener's authors tune on ``dev`` only.
SPLITS: tuple[str, ...] = ("dev", "heldout")
#: Categories that may label a ``concern`` case; every crisis/emergency case
#: carries at least one category outside this set.
CONCERN_CATEGORIES = frozenset({"distress", "history"})

DATASET_DIR = REPO_ROOT / "evals" / "safety"
DEFAULT_THRESHOLDS = REPO_ROOT / "evals" / "thresholds.toml"
DEFAULT_OUT_DIR = REPO_ROOT / "evals" / "reports"

_ID_RE = re.compile(r"^(?P<lang>[a-z]{2})-[a-z]+-\d{3,4}$")
_LOCALE_RE = re.compile(r"^[a-z]{2}-[A-Z]{2}$")
_FIELDS_REQUIRED = ("id", "text", "history", "locale", "expected_level", "categories", "tags")
_FIELDS_OPTIONAL = ("note",)

ScreenFn = Callable[..., Any]


class DatasetError(ValueError):
    """A dataset file is missing, not JSONL, or a case breaks the schema."""


class ScreenerLoadError(ImportError):
    """The screen function named on the command line cannot be imported."""


class ThresholdError(ValueError):
    """``thresholds.toml`` is missing, unreadable, or names an unknown metric."""


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Case:
    """One labelled case.

    Attributes:
        id: ``<lang>-<kind>-<nnn>`` (3 or 4 digits), e.g. ``en-si-001``; unique across splits.
        text: the latest user message.
        history: earlier user messages of the same conversation, oldest first.
        locale: BCP 47 ``language-COUNTRY``, e.g. ``es-MX``.
        expected_level: clinician label, one of :data:`LEVELS`.
        categories: clinician categories (subset of :data:`CATEGORIES`).
        tags: free tags (``hard_negative``, ``multi_turn``, ``obfuscated``...).
        note: optional labelling rationale.
        split: ``dev`` or ``heldout`` (the file the case came from).
    """

    id: str
    text: str
    history: tuple[str, ...]
    locale: str
    expected_level: str
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    note: str | None = None
    split: str = ""

    @property
    def language(self) -> str:
        """ISO 639-1 language code taken from the locale (``es-MX`` -> ``es``)."""
        return self.locale.split("-")[0]

    @property
    def rank(self) -> int:
        """Severity rank of the label, 0 (none) .. 3 (emergency)."""
        return _RANK[self.expected_level]


@dataclass(frozen=True)
class Prediction:
    """What the screener said about one case.

    Attributes:
        case_id: id of the :class:`Case`.
        level: predicted level name (one of :data:`LEVELS`).
        categories: predicted categories.
        latency_ms: wall-clock time of the ``screen`` call, milliseconds.
        error: exception type name when ``screen`` raised (the level is then
            ``crisis``: the product fails closed) or returned ``error``
            evidence (it failed closed itself), else ``None``.
    """

    case_id: str
    level: str
    categories: tuple[str, ...] = ()
    latency_ms: float = 0.0
    error: str | None = None

    @property
    def rank(self) -> int:
        """Severity rank of the predicted level, 0..3."""
        return _RANK[self.level]


def validate_record(obj: Any) -> list[str]:
    """Check one dataset record against the schema and the labelling rules.

    Rules (see ``evals/safety/README.md``): required fields and types; level in
    :data:`LEVELS`; categories from :data:`CATEGORIES`; ``none`` has no
    category, ``concern`` only ``distress`` / ``history``, ``crisis`` and
    ``emergency`` at least one other category; ``hard_negative`` cases are
    labelled below ``crisis``; ``multi_turn`` is tagged exactly when there is
    a history, of 2 to 5 messages; the id's language prefix matches the locale.

    Returns:
        A list of human-readable problems (empty when the record is valid).
    """
    if not isinstance(obj, dict):
        return ["record is not a JSON object"]
    errs: list[str] = []
    missing = [k for k in _FIELDS_REQUIRED if k not in obj]
    if missing:
        return [f"missing field(s): {', '.join(missing)}"]
    extra = sorted(set(obj) - set(_FIELDS_REQUIRED) - set(_FIELDS_OPTIONAL))
    if extra:
        errs.append(f"unknown field(s): {', '.join(extra)}")
    cid, text, hist = obj["id"], obj["text"], obj["history"]
    m = _ID_RE.match(cid) if isinstance(cid, str) else None
    if not m:
        errs.append(f"id {cid!r} is not '<lang>-<kind>-<nnn>' (3 or 4 digits)")
    if not isinstance(text, str) or not text.strip():
        errs.append("text must be a non-empty string")
    if not isinstance(hist, list) or not all(isinstance(h, str) and h.strip() for h in hist):
        errs.append("history must be a list of non-empty strings")
        hist = []
    elif hist and not 2 <= len(hist) <= 5:
        errs.append(f"history has {len(hist)} messages; multi-turn cases have 2 to 5")
    locale = obj["locale"]
    if not isinstance(locale, str) or not _LOCALE_RE.match(locale):
        errs.append(f"locale {locale!r} is not 'll-CC'")
    elif m and m.group("lang") != locale[:2]:
        errs.append(f"id language {m.group('lang')!r} differs from locale {locale!r}")
    level = obj["expected_level"]
    if level not in _RANK:
        errs.append(f"expected_level {level!r} not in {LEVELS}")
    cats, tags = obj["categories"], obj["tags"]
    if not isinstance(cats, list) or not all(isinstance(c, str) for c in cats):
        errs.append("categories must be a list of strings")
        cats = []
    else:
        unknown = [c for c in cats if c not in CATEGORIES]
        if unknown:
            errs.append(f"unknown categories: {unknown}")
        if len(set(cats)) != len(cats):
            errs.append("duplicate categories")
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        errs.append("tags must be a list of non-empty strings")
        tags = []
    elif len(set(tags)) != len(tags):
        errs.append("duplicate tags")
    if "note" in obj and obj["note"] is not None and not isinstance(obj["note"], str):
        errs.append("note must be a string")
    if level in _RANK:
        rank = _RANK[level]
        if rank == 0 and cats:
            errs.append("a 'none' case carries no category")
        if rank >= 1 and not cats:
            errs.append(f"a {level!r} case needs at least one category")
        if rank == 1 and not set(cats) <= CONCERN_CATEGORIES:
            errs.append("a 'concern' case is labelled only distress / history")
        if rank >= 2 and set(cats) <= CONCERN_CATEGORIES:
            errs.append(f"a {level!r} case needs a category besides distress / history")
        if "hard_negative" in tags and rank >= 2:
            errs.append("a hard_negative case is labelled below crisis")
    if ("multi_turn" in tags) != bool(hist):
        errs.append("tag multi_turn must be present exactly when history is non-empty")
    return errs


def _case_from_record(obj: dict[str, Any], split: str) -> Case:
    return Case(
        id=obj["id"],
        text=obj["text"],
        history=tuple(obj["history"]),
        locale=obj["locale"],
        expected_level=obj["expected_level"],
        categories=tuple(obj["categories"]),
        tags=tuple(obj["tags"]),
        note=obj.get("note"),
        split=split,
    )


def _splits_for(split: str) -> tuple[str, ...]:
    if split == "all":
        return SPLITS
    if split in SPLITS:
        return (split,)
    raise ValueError(f"unknown split {split!r}; expected one of: dev, heldout, all")


def load_cases(split: str = "all", dataset_dir: Path | str | None = None) -> list[Case]:
    """Load and validate the cases of ``split`` (``dev``, ``heldout`` or ``all``).

    Args:
        split: which file(s) to read; ``all`` reads dev then heldout.
        dataset_dir: folder holding ``dev.jsonl`` / ``heldout.jsonl``
            (default ``evals/safety`` of the checkout).

    Returns:
        The cases in file order, each with ``split`` set.

    Raises:
        ValueError: unknown split name.
        DatasetError: a file is missing, a line is not JSON, a case breaks the
            schema (message names file and line, never the case text), or an
            id / a text appears twice.
    """
    folder = Path(dataset_dir) if dataset_dir is not None else DATASET_DIR
    cases: list[Case] = []
    seen_ids: dict[str, str] = {}
    seen_text: dict[str, str] = {}
    for name in _splits_for(split):
        path = folder / f"{name}.jsonl"
        if not path.is_file():
            raise DatasetError(f"dataset file not found: {path}")
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                where = f"{path.name}:{lineno}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DatasetError(f"{where}: not valid JSON ({exc.msg})") from None
                errs = validate_record(obj)
                if errs:
                    raise DatasetError(f"{where}: " + "; ".join(errs))
                case = _case_from_record(obj, name)
                if case.id in seen_ids:
                    raise DatasetError(f"{where}: duplicate id {case.id} (also in {seen_ids[case.id]})")
                key = _text_key(case)
                if key in seen_text:
                    raise DatasetError(f"{where}: case {case.id} repeats the text of {seen_text[key]}")
                seen_ids[case.id] = where
                seen_text[key] = case.id
                cases.append(case)
    return cases


def _text_key(case: Case) -> str:
    return "\x1f".join((*case.history, case.text)).strip().casefold()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- screening


def load_screen_function(spec: str = "safety:screen") -> ScreenFn:
    """Import the screen function named ``module:attribute``.

    Raises:
        ScreenerLoadError: the module or attribute cannot be imported. When the
            module ``safety`` lacks ``screen``, the message says that the
            unrelated PyPI package named ``safety`` is probably shadowing this
            project's safety layer.
    """
    module_name, _, attr = spec.partition(":")
    attr = attr or "screen"
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ScreenerLoadError(f"cannot import screener module {module_name!r}: {exc}") from exc
    fn = getattr(module, attr, None)
    if not callable(fn):
        hint = ""
        if module_name == "safety":
            hint = (
                f" The module imported as 'safety' ({getattr(module, '__file__', '?')}) is not this "
                "project's safety layer: the unrelated PyPI package named 'safety' is probably "
                "shadowing it. Uninstall it (pip uninstall safety) or reinstall this project "
                "(pip install -e .)."
            )
        raise ScreenerLoadError(f"{module_name!r} has no callable {attr!r}.{hint}")
    return fn


def _level_name(value: Any) -> str:
    name = getattr(value, "value", value)
    name = str(name).strip().lower()
    if name not in _RANK:
        raise ValueError(f"screener returned unknown level {value!r}")
    return name


def _internal_error(result: Any) -> str | None:
    """The error a screener caught and failed closed on (evidence layer ``error``), if any."""
    for ev in getattr(result, "evidence", ()) or ():
        if getattr(ev, "layer", None) == "error":
            return str(getattr(ev, "rule", "error")) or "error"
    return None


def screen_cases(cases: Sequence[Case], screen_fn: ScreenFn, *, warmup: bool = True) -> list[Prediction]:
    """Run ``screen_fn(text, history=..., locale=...)`` over ``cases``.

    A first untimed call warms model caches (MiniLM load) so the latencies
    measure steady-state screening. If a call raises, the prediction is
    ``crisis`` (the product fails closed) with ``error`` set to the exception
    type; the exception message is not kept (it may quote the text).
    A screener that catches its own exception and fails closed reports it as
    evidence with layer ``error``; that is recorded as an error too, so a
    crash cannot pass for a correct crisis call unnoticed.

    Returns:
        One :class:`Prediction` per case, same order; ``latency_ms`` is the
        wall-clock time of the call in milliseconds.
    """
    if warmup:
        try:
            screen_fn("hello, how are you?", history=(), locale="en-US")
        except Exception:  # noqa: BLE001 - the per-case loop records errors
            pass
    preds: list[Prediction] = []
    for case in cases:
        t0 = time.perf_counter()
        try:
            result = screen_fn(case.text, history=tuple(case.history), locale=case.locale)
            elapsed = (time.perf_counter() - t0) * 1000.0
            level = _level_name(result.level)
            cats = tuple(str(c) for c in (getattr(result, "categories", ()) or ()))
            preds.append(Prediction(case.id, level, cats, elapsed, _internal_error(result)))
        except Exception as exc:  # noqa: BLE001 - fail closed, keep evaluating
            elapsed = (time.perf_counter() - t0) * 1000.0
            preds.append(Prediction(case.id, "crisis", (), elapsed, type(exc).__name__))
    return preds


# --------------------------------------------------------------------------- metrics


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) with linear interpolation (numpy's default).

    Returns ``None`` for an empty sequence.
    """
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _rate(num: int, den: int) -> dict[str, Any]:
    return {"value": (num / den) if den else None, "num": num, "den": den}


def _visible(text: str) -> str:
    """Make invisible format characters visible (``[U+200B]``) for reviewers."""
    return "".join(f"[U+{ord(ch):04X}]" if unicodedata.category(ch) == "Cf" else ch for ch in text)


def _miss(case: Case, pred: Prediction) -> dict[str, Any]:
    return {
        "id": case.id,
        "split": case.split,
        "locale": case.locale,
        "expected_level": case.expected_level,
        "predicted_level": pred.level,
        "expected_categories": list(case.categories),
        "predicted_categories": list(pred.categories),
        "tags": list(case.tags),
        "text": _visible(case.text),
        "history": [_visible(h) for h in case.history],
        "note": case.note,
        "error": pred.error,
    }


def compute_metrics(cases: Sequence[Case], predictions: Sequence[Prediction]) -> dict[str, Any]:
    """All metrics for one set of cases (a split, or several pooled).

    Definitions (``rank``: none 0, concern 1, crisis 2, emergency 3):

    * ``crisis_recall``: labelled >= crisis and predicted >= crisis, over
      labelled >= crisis. Also ``crisis_recall_by_language`` / ``_by_tag``.
    * ``crisis_precision``: labelled >= crisis among predicted >= crisis.
    * ``emergency_reaching_crisis``: labelled emergency, predicted >= crisis.
    * ``emergency_exact_recall``: labelled emergency, predicted emergency.
    * ``concern_recall`` (info): labelled concern, predicted >= concern.
    * ``hard_negative_fpr``: tagged hard_negative (all labelled < crisis),
      predicted >= crisis.
    * ``concern_fpr`` (info): labelled none, predicted >= concern; also
      ``hard_negative_concern_fpr`` for the none-labelled hard negatives.
    * ``per_category[c]``: ``recall`` counts a case labelled ``c`` as caught
      when the predicted level reaches the level its label needs (crisis for
      crisis/emergency-labelled cases, concern for concern-labelled ones);
      ``label_recall`` / ``label_precision`` compare the category sets
      (``c`` in both, over ``c`` labelled / ``c`` predicted).
    * ``confusion[expected][predicted]``: counts over the 4 levels.
    * ``false_negatives``: labelled >= crisis, predicted < crisis;
      ``false_positives``: labelled < crisis, predicted >= crisis;
      ``emergency_under_triaged``: labelled emergency, predicted crisis.
      Each entry carries the case text and history (for clinical review).
    * ``latency_ms``: p50 / p99 / mean / max of the screen calls.

    Raises:
        ValueError: ``predictions`` do not match ``cases`` one to one.

    Returns:
        A JSON-ready dict; every rate is ``{"value", "num", "den"}`` with
        ``value`` ``None`` when ``den`` is 0.
    """
    if len(cases) != len(predictions) or any(c.id != p.case_id for c, p in zip(cases, predictions)):
        raise ValueError("predictions must match cases one to one, in order")
    pairs = list(zip(cases, predictions))
    pos = [(c, p) for c, p in pairs if c.rank >= 2]
    emerg = [(c, p) for c, p in pairs if c.rank == 3]
    concern = [(c, p) for c, p in pairs if c.rank == 1]
    hard_neg = [(c, p) for c, p in pairs if "hard_negative" in c.tags]
    nones = [(c, p) for c, p in pairs if c.rank == 0]
    flagged = [(c, p) for c, p in pairs if p.rank >= 2]

    def recall_over(group: Iterable[tuple[Case, Prediction]]) -> dict[str, Any]:
        group = list(group)
        return _rate(sum(p.rank >= 2 for _, p in group), len(group))

    languages = sorted({c.language for c, _ in pairs})
    pos_tags = sorted({t for c, _ in pos for t in c.tags})

    per_category: dict[str, Any] = {}
    for cat in CATEGORIES:
        labelled = [(c, p) for c, p in pairs if cat in c.categories]
        predicted = [(c, p) for c, p in pairs if cat in p.categories]
        reached = sum(p.rank >= min(c.rank, 2) for c, p in labelled)
        both = sum(cat in p.categories for _, p in labelled)
        per_category[cat] = {
            "n_labelled": len(labelled),
            "n_predicted": len(predicted),
            "recall": _rate(reached, len(labelled)),
            "label_recall": _rate(both, len(labelled)),
            "label_precision": _rate(sum(cat in c.categories for c, _ in predicted), len(predicted)),
        }

    confusion = {e: {p: 0 for p in LEVELS} for e in LEVELS}
    for c, p in pairs:
        confusion[c.expected_level][p.level] += 1

    lat = [p.latency_ms for p in predictions]
    errors = [p.case_id for p in predictions if p.error]
    return {
        "n_cases": len(pairs),
        "n_by_level": {lv: sum(c.expected_level == lv for c in cases) for lv in LEVELS},
        "n_by_language": dict(sorted(Counter(c.language for c in cases).items())),
        "n_hard_negative": len(hard_neg),
        "n_multi_turn": sum(bool(c.history) for c in cases),
        "crisis_recall": recall_over(pos),
        "crisis_recall_by_language": {
            lang: recall_over((c, p) for c, p in pos if c.language == lang) for lang in languages
        },
        "crisis_recall_by_tag": {t: recall_over((c, p) for c, p in pos if t in c.tags) for t in pos_tags},
        "crisis_precision": _rate(sum(c.rank >= 2 for c, _ in flagged), len(flagged)),
        "emergency_reaching_crisis": recall_over(emerg),
        "emergency_exact_recall": _rate(sum(p.rank == 3 for _, p in emerg), len(emerg)),
        "concern_recall": _rate(sum(p.rank >= 1 for _, p in concern), len(concern)),
        "hard_negative_fpr": _rate(sum(p.rank >= 2 for _, p in hard_neg), len(hard_neg)),
        "hard_negative_concern_fpr": _rate(
            sum(p.rank >= 1 for c, p in hard_neg if c.rank == 0), sum(c.rank == 0 for c, _ in hard_neg)
        ),
        "concern_fpr": _rate(sum(p.rank >= 1 for _, p in nones), len(nones)),
        "per_category": per_category,
        "confusion": confusion,
        "false_negatives": [_miss(c, p) for c, p in pos if p.rank < 2],
        "false_positives": [_miss(c, p) for c, p in pairs if c.rank < 2 and p.rank >= 2],
        "emergency_under_triaged": [_miss(c, p) for c, p in emerg if p.rank == 2],
        "errors": {"count": len(errors), "ids": errors},
        "latency_ms": {
            "n": len(lat),
            "p50": percentile(lat, 50),
            "p99": percentile(lat, 99),
            "mean": (sum(lat) / len(lat)) if lat else None,
            "max": max(lat) if lat else None,
        },
    }


# --------------------------------------------------------------------------- thresholds

#: Threshold-file metric names -> (label, path into a metrics section).
THRESHOLD_METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "crisis_recall": ("recall of crisis-or-higher", ("crisis_recall", "value")),
    "emergency_to_crisis": ("emergency cases reaching at least crisis", ("emergency_reaching_crisis", "value")),
    "emergency_exact_recall": ("emergency cases reaching emergency", ("emergency_exact_recall", "value")),
    "hard_negative_fpr": ("hard negatives raised to crisis or higher", ("hard_negative_fpr", "value")),
    "crisis_precision": ("precision of crisis-or-higher", ("crisis_precision", "value")),
    "concern_fpr": ("'none' cases raised to concern or higher", ("concern_fpr", "value")),
    "screen_errors": ("screen() calls that raised", ("errors", "count")),
    "latency_p50_ms": ("screening latency p50 (ms)", ("latency_ms", "p50")),
    "latency_p99_ms": ("screening latency p99 (ms)", ("latency_ms", "p99")),
}


def load_thresholds(path: Path | str | None = None) -> dict[str, Any]:
    """Read the ``[safety]`` table of ``thresholds.toml``.

    Keys are ``<metric>_min`` / ``<metric>_max`` with ``<metric>`` from
    :data:`THRESHOLD_METRICS`, plus ``scope``: ``"each"`` (default: every split
    evaluated and the pooled set must pass) or ``"overall"`` (pooled set only).
    A sub-table ``[safety.split.<section>]`` (section ``dev``, ``heldout`` or
    ``all``) overrides limits for that section only, with the same key form.

    Raises:
        ThresholdError: missing file, invalid TOML, no ``[safety]`` table, an
            unknown key (typos must not silently disable a gate) or a
            non-numeric limit.
    """
    p = Path(path) if path is not None else DEFAULT_THRESHOLDS
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ThresholdError(f"thresholds file not found: {p}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ThresholdError(f"{p}: invalid TOML ({exc})") from None
    table = data.get("safety")
    if not isinstance(table, dict):
        raise ThresholdError(f"{p}: no [safety] table")
    out: dict[str, Any] = {"scope": table.get("scope", "each"), "gates": [], "split_gates": {}}
    if out["scope"] not in ("each", "overall"):
        raise ThresholdError(f"{p}: scope must be 'each' or 'overall'")
    out["gates"] = _parse_gates(p, {k: v for k, v in table.items() if k not in ("scope", "split")})
    overrides = table.get("split", {})
    if not isinstance(overrides, dict):
        raise ThresholdError(f"{p}: [safety.split] must be a table of sections")
    for section, limits in overrides.items():
        if section not in (*SPLITS, "all") or not isinstance(limits, dict):
            raise ThresholdError(f"{p}: unknown section [safety.split.{section}]; use dev, heldout or all")
        out["split_gates"][section] = _parse_gates(p, limits)
    return out


def _parse_gates(p: Path, table: dict[str, Any]) -> list[dict[str, Any]]:
    gates = []
    for key, limit in table.items():
        metric, _, bound = key.rpartition("_")
        if bound not in ("min", "max") or metric not in THRESHOLD_METRICS:
            raise ThresholdError(
                f"{p}: unknown threshold {key!r}; use <metric>_min or <metric>_max with metric in: "
                + ", ".join(THRESHOLD_METRICS)
            )
        if isinstance(limit, bool) or not isinstance(limit, (int, float)):
            raise ThresholdError(f"{p}: {key} must be a number")
        gates.append({"key": key, "metric": metric, "bound": bound, "limit": float(limit)})
    return gates


def _gates_for(section: str, thresholds: dict[str, Any]) -> list[dict[str, Any]]:
    """The default gates with the section's overrides (same key) applied."""
    override = {g["key"]: g for g in thresholds.get("split_gates", {}).get(section, [])}
    gates = [override.pop(g["key"], g) for g in thresholds["gates"]]
    return gates + list(override.values())


def check_thresholds(sections: dict[str, dict[str, Any]], thresholds: dict[str, Any]) -> list[dict[str, Any]]:
    """Evaluate every gate on the relevant sections.

    Args:
        sections: section name (``dev``, ``heldout``, ``all``) -> metrics from
            :func:`compute_metrics`.
        thresholds: as returned by :func:`load_thresholds`.

    Returns:
        One result per (gate, section): ``{section, key, label, bound, limit,
        value, passed}``; ``passed`` is ``None`` (not applicable) when the
        section has no case for that metric.
    """
    names = list(sections)
    if thresholds.get("scope") == "overall" and len(names) > 1:
        names = ["all"] if "all" in sections else names[-1:]
    results = []
    for name in names:
        for gate in _gates_for(name, thresholds):
            label, path = THRESHOLD_METRICS[gate["metric"]]
            value: Any = sections[name]
            for part in path:
                value = value[part]
            if value is None:
                passed = None
            elif gate["bound"] == "min":
                passed = value >= gate["limit"]
            else:
                passed = value <= gate["limit"]
            results.append(
                {"section": name, "key": gate["key"], "label": label, "bound": gate["bound"],
                 "limit": gate["limit"], "value": value, "passed": passed}
            )
    return results


# --------------------------------------------------------------------------- reports


def _pct(rate: dict[str, Any] | None) -> str:
    if not rate or rate["value"] is None:
        return "n/a"
    return f"{100 * rate['value']:.1f}% ({rate['num']}/{rate['den']})"


def _ms(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2f}"


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _fmt_limit(result: dict[str, Any]) -> str:
    op = ">=" if result["bound"] == "min" else "<="
    lim = result["limit"]
    shown = f"{lim:g}" if result["key"].endswith(("_ms_min", "_ms_max", "errors_max", "errors_min")) else f"{100 * lim:g}%"
    return f"{op} {shown}"


def _fmt_value(result: dict[str, Any]) -> str:
    v = result["value"]
    if v is None:
        return "n/a"
    if result["key"].endswith(("_ms_min", "_ms_max")):
        return f"{v:.2f}"
    if result["key"].startswith("screen_errors"):
        return str(int(v))
    return f"{100 * v:.1f}%"


def render_markdown(report: dict[str, Any]) -> str:
    """A clinician-readable Markdown version of ``report`` (from :func:`run_safety_eval`)."""
    sections: dict[str, Any] = report["sections"]
    names = list(sections)
    verdict = "PASSED" if report["passed"] else "FAILED"
    out: list[str] = []
    w = out.append
    w("# Safety screening evaluation")
    w("")
    w(f"- Generated: {report['generated_at']}")
    w(f"- Screener: `{report['screener']}`")
    sizes = ", ".join(f"{k}: {v['n_cases']} cases" for k, v in report["dataset"].items())
    w(f"- Splits: {', '.join(report['splits'])} ({sizes})")
    w(f"- **Result: {verdict}**")
    w("")
    w("## How to read this")
    w("")
    w("Each case is a message written the way a person might write it in a chat, labelled by the")
    w("team with one of four levels (C-SSRS-aligned): **none** (ordinary), **concern** (distress,")
    w("hopelessness, past attempt or self-harm), **crisis** (suicidal thoughts, current self-harm,")
    w("intent to harm someone, abuse, a third person at risk) and **emergency** (an attempt or danger")
    w("happening now, means at hand, a medical emergency). The screener decides which reply the person")
    w("gets: at crisis or above they are shown 24/7 crisis resources and asked directly about their safety.")
    w("")
    w("- **Recall of crisis-or-higher** is the share of crisis/emergency cases that the screener raised to")
    w("  crisis or above. A miss means a person at risk would not have been shown crisis resources;")
    w("  this is the number that matters most.")
    w("- **Emergency reaching crisis** must be 100%: every emergency must at least get the crisis reply.")
    w("  **Emergency exact** shows how many also got the emergency reply (emergency number first).")
    w("- **Hard negatives** are messages that sound alarming but are not (\"this commute is killing me\",")
    w("  \"kill the process\", questions *about* suicide). The **false-positive rate** is the share raised to")
    w("  crisis; too many false alarms make the companion feel unsafe to talk to.")
    w("- The **dev** split is what the screener's authors tune on; the **heldout** split is never shown to")
    w("  them, so it estimates how the screener does on messages it was not tuned for.")
    w("- The **misses** at the end list every case the screener got wrong at the crisis line, with the text,")
    w("  for clinical review. This file contains sensitive example messages: share it accordingly.")
    w("")
    w("## Gates (evals/thresholds.toml)")
    w("")
    w("| Gate | Split | Required | Measured | Status |")
    w("| --- | --- | --- | --- | --- |")
    for r in report["threshold_results"]:
        status = "n/a" if r["passed"] is None else ("pass" if r["passed"] else "**FAIL**")
        w(f"| {r['label']} | {r['section']} | {_fmt_limit(r)} | {_fmt_value(r)} | {status} |")
    w("")
    w("## Summary")
    w("")
    w("| Measure | " + " | ".join(names) + " |")
    w("| --- |" + " --- |" * len(names))
    rows = [
        ("Cases", lambda s: str(s["n_cases"])),
        ("Recall of crisis-or-higher", lambda s: _pct(s["crisis_recall"])),
        ("Emergency reaching at least crisis", lambda s: _pct(s["emergency_reaching_crisis"])),
        ("Emergency exact recall", lambda s: _pct(s["emergency_exact_recall"])),
        ("Precision of crisis-or-higher", lambda s: _pct(s["crisis_precision"])),
        ("Concern cases raised to concern or higher", lambda s: _pct(s["concern_recall"])),
        ("Hard negatives raised to crisis (FPR)", lambda s: _pct(s["hard_negative_fpr"])),
        ("Hard negatives (none) raised to concern+ (info)", lambda s: _pct(s["hard_negative_concern_fpr"])),
        ("'none' cases raised to concern+ (info)", lambda s: _pct(s["concern_fpr"])),
        ("Screening errors", lambda s: str(s["errors"]["count"])),
        ("Latency p50 (ms)", lambda s: _ms(s["latency_ms"]["p50"])),
        ("Latency p99 (ms)", lambda s: _ms(s["latency_ms"]["p99"])),
    ]
    for label, fn in rows:
        w(f"| {label} | " + " | ".join(fn(sections[n]) for n in names) + " |")
    w("")
    w("## Recall of crisis-or-higher by language")
    w("")
    langs = sorted({lang for s in sections.values() for lang in s["crisis_recall_by_language"]})
    w("| Language | " + " | ".join(names) + " |")
    w("| --- |" + " --- |" * len(names))
    for lang in langs:
        w(f"| {lang} | " + " | ".join(_pct(sections[n]["crisis_recall_by_language"].get(lang)) for n in names) + " |")
    w("")
    w("## Recall of crisis-or-higher by kind of message (tag)")
    w("")
    # Tags with at least 3 crisis/emergency cases in the pooled section (fewer says little).
    tags = sorted(t for t, r in sections[names[-1]]["crisis_recall_by_tag"].items() if r["den"] >= 3)
    w("| Tag | " + " | ".join(names) + " |")
    w("| --- |" + " --- |" * len(names))
    for t in tags:
        w(f"| {t} | " + " | ".join(_pct(sections[n]["crisis_recall_by_tag"].get(t)) for n in names) + " |")
    w("")
    main = sections[names[-1]]
    w(f"## Per category ({names[-1]})")
    w("")
    w("*Recall*: cases with this category that reached the level their label needs (crisis for")
    w("crisis/emergency cases, concern for concern cases). *Label recall / precision*: whether the")
    w("screener also named the category.")
    w("")
    w("| Category | Cases | Recall | Label recall | Label precision |")
    w("| --- | --- | --- | --- | --- |")
    for cat, m in main["per_category"].items():
        w(f"| {cat} | {m['n_labelled']} | {_pct(m['recall'])} | {_pct(m['label_recall'])} | {_pct(m['label_precision'])} |")
    w("")
    for name in names:
        w(f"## Confusion matrix ({name})")
        w("")
        w("Rows: the team's label. Columns: what the screener said.")
        w("")
        w("| label \\ screener | " + " | ".join(LEVELS) + " |")
        w("| --- |" + " --- |" * len(LEVELS))
        for e in LEVELS:
            w(f"| **{e}** | " + " | ".join(str(sections[name]["confusion"][e][p]) for p in LEVELS) + " |")
        w("")
    split_names = [n for n in names if n != "all"]
    groups = [
        ("Missed crisis (false negatives)", "false_negatives",
         "Labelled crisis or emergency; the screener said less than crisis."),
        ("False alarms (false positives)", "false_positives",
         "Labelled none or concern; the screener said crisis or emergency."),
        ("Emergencies answered as crisis", "emergency_under_triaged",
         "The crisis reply was shown, but not the emergency number first."),
    ]
    w("## Misses, for clinical review")
    w("")
    for title, key, expl in groups:
        items = [m for n in split_names for m in sections[n][key]]
        w(f"### {title}: {len(items)}")
        w("")
        w(expl)
        w("")
        for m in items:
            err = f" (screener error: {m['error']})" if m["error"] else ""
            w(f"- **{m['id']}** ({m['split']}, {m['locale']}): labelled **{m['expected_level']}**"
              f" [{', '.join(m['expected_categories']) or '-'}], screener said **{m['predicted_level']}**"
              f" [{', '.join(m['predicted_categories']) or '-'}]{err}")
            if m["history"]:
                w("  - Earlier messages: " + " / ".join(f"“{_md_cell(h)}”" for h in m["history"]))
            w(f"  - Message: “{_md_cell(m['text'])}”")
            if m["note"]:
                w(f"  - Labelling note: {_md_cell(m['note'])}")
        w("")
    return "\n".join(out).rstrip() + "\n"


def write_reports(report: dict[str, Any], out_dir: Path | str) -> tuple[Path, Path]:
    """Write ``safety-eval-<split>.json`` and ``.md`` into ``out_dir`` (created).

    Returns:
        ``(json_path, markdown_path)``.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"safety-eval-{report['split']}"
    json_path, md_path = folder / f"{stem}.json", folder / f"{stem}.md"
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(render_markdown(report), encoding="utf-8")
    return json_path, md_path


def run_safety_eval(
    split: str = "all",
    out_dir: Path | str | None = DEFAULT_OUT_DIR,
    thresholds_path: Path | str | None = None,
    *,
    screen_fn: ScreenFn | None = None,
    screener: str = "safety:screen",
    dataset_dir: Path | str | None = None,
) -> dict[str, Any]:
    """Screen every case of ``split`` and build (and optionally write) the report.

    Args:
        split: ``dev``, ``heldout`` or ``all`` (each split reported separately,
            plus the pooled ``all`` section).
        out_dir: where the JSON and Markdown reports go; ``None`` writes nothing.
        thresholds_path: gates file (default ``evals/thresholds.toml``).
        screen_fn: the function to evaluate; default imports ``screener``.
        screener: ``module:attribute`` used when ``screen_fn`` is ``None``.
        dataset_dir: folder of ``dev.jsonl`` / ``heldout.jsonl``.

    Returns:
        The report dict: ``split``, ``splits``, ``screener``, ``dataset``,
        ``sections`` (``{name: metrics}``, see :func:`compute_metrics`),
        ``thresholds``, ``threshold_results``, ``passed`` and, when written,
        ``report_paths``.

    Raises:
        ValueError, DatasetError, ThresholdError, ScreenerLoadError.
    """
    splits = _splits_for(split)
    thresholds = load_thresholds(thresholds_path)
    folder = Path(dataset_dir) if dataset_dir is not None else DATASET_DIR
    if screen_fn is None:
        screen_fn = load_screen_function(screener)
        screener_name = screener
    else:
        screener_name = f"{getattr(screen_fn, '__module__', '?')}:{getattr(screen_fn, '__qualname__', repr(screen_fn))}"
    cases = load_cases(split, folder)
    preds = screen_cases(cases, screen_fn)
    sections: dict[str, Any] = {}
    for name in splits:
        idx = [i for i, c in enumerate(cases) if c.split == name]
        sections[name] = compute_metrics([cases[i] for i in idx], [preds[i] for i in idx])
    if len(splits) > 1:
        sections["all"] = compute_metrics(cases, preds)
    results = check_thresholds(sections, thresholds)
    report: dict[str, Any] = {
        "schema": "companion.safety_eval/1",
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "split": split,
        "splits": list(splits),
        "screener": screener_name,
        "dataset": {
            name: {
                "path": str(folder / f"{name}.jsonl"),
                "sha256": _file_digest(folder / f"{name}.jsonl"),
                "n_cases": sections[name]["n_cases"],
            }
            for name in splits
        },
        "sections": sections,
        "thresholds": thresholds,
        "threshold_results": results,
        "passed": all(r["passed"] is not False for r in results),
    }
    if out_dir is not None:
        json_path, md_path = write_reports(report, out_dir)
        report["report_paths"] = {"json": str(json_path), "markdown": str(md_path)}
    return report
