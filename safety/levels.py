"""The safety-level contract every part of the product shares.

Levels are ordered ``none < concern < crisis < emergency``, aligned with the
low / moderate / high risk triage idea of the Columbia Suicide Severity Rating
Scale (C-SSRS screener triage; Posner et al., 2011, Am J Psychiatry 168:1266).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = ["Level", "CATEGORIES", "Evidence", "Assessment"]


class Level(str, Enum):
    """Risk level of a message or conversation, ordered by severity.

    A ``str`` enum: ``Level.CRISIS == "crisis"``; comparisons use severity
    order, not alphabetical order (``Level.EMERGENCY > Level.CRISIS``).
    """

    NONE = "none"
    CONCERN = "concern"
    CRISIS = "crisis"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        """Severity as an integer 0..3 (none=0, emergency=3)."""
        return _ORDER[self.value]

    @classmethod
    def parse(cls, value: "Level | str") -> "Level":
        """Return the level named by ``value`` (case-insensitive).

        Raises:
            ValueError: ``value`` names no level.
        """
        if isinstance(value, Level):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise ValueError(
                f"unknown safety level {value!r}; expected one of: "
                + ", ".join(m.value for m in cls)
            ) from None

    def _cmp(self, other: object) -> int:
        other_level = Level.parse(other) if isinstance(other, (str, Level)) else None
        if other_level is None:
            return NotImplemented  # type: ignore[return-value]
        return self.rank - other_level.rank

    def __lt__(self, other: object) -> bool:  # type: ignore[override]
        c = self._cmp(other)
        return NotImplemented if c is NotImplemented else c < 0

    def __le__(self, other: object) -> bool:  # type: ignore[override]
        c = self._cmp(other)
        return NotImplemented if c is NotImplemented else c <= 0

    def __gt__(self, other: object) -> bool:  # type: ignore[override]
        c = self._cmp(other)
        return NotImplemented if c is NotImplemented else c > 0

    def __ge__(self, other: object) -> bool:  # type: ignore[override]
        c = self._cmp(other)
        return NotImplemented if c is NotImplemented else c >= 0

    def __hash__(self) -> int:
        return hash(self.value)

    def __str__(self) -> str:
        return self.value

    @classmethod
    def max(cls, *levels: "Level") -> "Level":
        """The most severe of ``levels`` (``Level.NONE`` when empty)."""
        return max(levels, key=lambda lv: lv.rank, default=cls.NONE)


_ORDER = {"none": 0, "concern": 1, "crisis": 2, "emergency": 3}

#: Risk categories, as named in the design contract.
CATEGORIES: tuple[str, ...] = (
    "suicidal_ideation",
    "self_harm",
    "harm_to_others",
    "abuse",
    "medical_emergency",
    "third_party",
    "history",
    "distress",
)


@dataclass(frozen=True)
class Evidence:
    """One thing that fired during screening, for audit.

    Holds rule / exemplar identifiers and scores, never the user's raw text.

    Attributes:
        layer: ``normalise`` | ``rules`` | ``semantic`` | ``conversation`` |
            ``judge`` | ``error``.
        rule: identifier of the rule, exemplar or error type that fired.
        level: level this piece of evidence argues for.
        category: one of :data:`CATEGORIES`, or ``None``.
        score: similarity / probability in [0, 1] where the layer has one.
        note: short free text written by the code (never user text).
    """

    layer: str
    rule: str
    level: Level
    category: str | None = None
    score: float | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "layer": self.layer,
            "rule": self.rule,
            "level": self.level.value,
            "category": self.category,
            "score": None if self.score is None else round(float(self.score), 4),
            "note": self.note,
        }


@dataclass(frozen=True)
class Assessment:
    """Result of :func:`safety.screen`.

    Attributes:
        level: overall :class:`Level`.
        categories: tuple of category names from :data:`CATEGORIES`, most
            important first, no duplicates.
        evidence: tuple of :class:`Evidence`, what fired (no raw text).
        language: ISO 639-1 code the rules matched in (``"en"``, ``"es"``...),
            or ``None`` when unknown.
    """

    level: Level
    categories: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    language: str | None = None

    @property
    def is_crisis(self) -> bool:
        """True when the level is ``crisis`` or ``emergency``."""
        return self.level >= Level.CRISIS

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``{level, categories, evidence[], language}``."""
        return {
            "level": self.level.value,
            "categories": list(self.categories),
            "evidence": [e.to_dict() for e in self.evidence],
            "language": self.language,
        }
