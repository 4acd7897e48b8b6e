"""Crisis replies: warm, direct, safe-messaging-compliant, with the locale's resources.

Used when :func:`safety.screen` returns ``crisis`` or ``emergency``::

    reply = respond(assessment, locale="es-MX", clinic=clinic)
    reply.text        # Spanish text with Línea de la Vida, 911, ...
    reply.resources   # ResourceSet (emergency first when level is emergency)

Wording lives in ``safety/data/crisis_replies.yaml`` (clinician-reviewed; the
safe-messaging sources are cited there). Several variants per slot are chosen
with a seeded RNG (``seed=None`` -> random), so replies do not read as
copy-paste. Resource numbers are never typed in templates: they are rendered
from the resources directory.

The reply always: validates the feeling; asks directly about safety; lists
24/7 lines with text/chat options where they exist; mentions the clinic if
configured; suggests a trusted person; offers a grounding step or a safety
plan; says it is an AI; keeps the conversation open. For level ``emergency``
(or category ``medical_emergency``) the emergency number comes first in both
the text and the resources, and the next step is getting help there
(``next_step_emergency``), not a breathing exercise.
"""

from __future__ import annotations

import random
import re
import string
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from safety.levels import Assessment, Level
from safety.locale import parse_locale
from safety.resources import ClinicContact, Resource, ResourceSet, resources_for

__all__ = [
    "CrisisReply",
    "respond",
    "concern_pointer",
    "reply_language",
    "SUPPORTED_LANGUAGES",
    "TemplateError",
    "TEMPLATES_PATH",
]

#: Default location of the templates.
TEMPLATES_PATH = Path(__file__).resolve().parent / "data" / "crisis_replies.yaml"

_SLOTS_LIST = (
    "opening",
    "emergency_first",
    "abuse",
    "harm_to_others",
    "third_party",
    "ai_bridge",
    "international_intro",
    "dv_intro",
    "clinic",
    "trusted_person",
    "next_step",
    "next_step_emergency",
    "door_open",
    "concern_pointer",
    "concern_pointer_clinic",
)
_QUESTION_KEYS = (
    "suicidal_ideation",
    "self_harm",
    "harm_to_others",
    "abuse",
    "third_party",
    "medical_emergency",
    "default",
)
_FMT_KEYS = (
    "call", "text", "text_keyword", "whatsapp", "chat", "web", "or", "hours_247", "local_emergency", "emergency_label",
)
_ALLOWED_PLACEHOLDERS = {"emergency", "clinic_name", "clinic_contact", "line"}
_FMT_PLACEHOLDERS = {"phone", "sms", "keyword", "whatsapp", "chat_url", "url"}


class TemplateError(ValueError):
    """The crisis-reply templates are missing or invalid (message names the slot)."""


@dataclass(frozen=True)
class CrisisReply:
    """A crisis reply ready to show.

    Attributes:
        text: the reply (plain text with simple ``- `` bullet lines).
        resources: the :class:`ResourceSet` shown with it (emergency first
            when ``emergency_first``).
        level: the level replied to (``crisis`` or ``emergency``).
        language: ISO 639-1 code of ``text`` (``"en"``, ``"es"``).
        categories: categories that shaped the reply.
        emergency_first: True when the emergency number leads text and resources.
    """

    text: str
    resources: ResourceSet
    level: Level = Level.CRISIS
    language: str = "en"
    categories: tuple[str, ...] = ()
    emergency_first: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "text": self.text,
            "resources": self.resources.to_dict(),
            "level": self.level.value,
            "language": self.language,
            "categories": list(self.categories),
            "emergency_first": self.emergency_first,
        }


# --------------------------------------------------------------------------- #
# Templates
# --------------------------------------------------------------------------- #


def _placeholders(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def load_templates(path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Read and check the reply templates.

    Checks: every language has every slot with >= 2 non-empty variants (fmt
    entries exactly once), every safety question category, and only known
    placeholders.

    Raises:
        TemplateError: naming the language and slot at fault.
    """
    p = Path(path) if path is not None else TEMPLATES_PATH
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"cannot load crisis reply templates {p}: {exc}") from exc
    langs = (raw or {}).get("languages")
    if not isinstance(langs, dict) or "en" not in langs:
        raise TemplateError(f"{p}: 'languages' must be a mapping that includes 'en'")

    def variants(lang: str, where: str, value: Any, allowed: set[str]) -> list[str]:
        if not isinstance(value, list) or len(value) < 2:
            raise TemplateError(f"{p}: languages.{lang}.{where} needs a list of at least 2 variants")
        for i, v in enumerate(value):
            if not isinstance(v, str) or not v.strip():
                raise TemplateError(f"{p}: languages.{lang}.{where}[{i}] must be non-empty text")
            unknown = _placeholders(v) - allowed
            if unknown:
                raise TemplateError(f"{p}: languages.{lang}.{where}[{i}] has unknown placeholder(s) {sorted(unknown)}")
        return [v.strip() for v in value]

    out: dict[str, dict[str, Any]] = {}
    for lang, slots in langs.items():
        if not isinstance(slots, dict):
            raise TemplateError(f"{p}: languages.{lang} must be a mapping")
        checked: dict[str, Any] = {}
        for slot in _SLOTS_LIST:
            checked[slot] = variants(lang, slot, slots.get(slot), _ALLOWED_PLACEHOLDERS)
        qs = slots.get("safety_question")
        if not isinstance(qs, dict):
            raise TemplateError(f"{p}: languages.{lang}.safety_question must be a mapping")
        checked["safety_question"] = {
            k: variants(lang, f"safety_question.{k}", qs.get(k), _ALLOWED_PLACEHOLDERS) for k in _QUESTION_KEYS
        }
        fmt = slots.get("fmt")
        if not isinstance(fmt, dict):
            raise TemplateError(f"{p}: languages.{lang}.fmt must be a mapping")
        for k in _FMT_KEYS:
            v = fmt.get(k)
            if not isinstance(v, str) or not v.strip():
                raise TemplateError(f"{p}: languages.{lang}.fmt.{k} must be non-empty text")
            unknown = _placeholders(v) - _FMT_PLACEHOLDERS
            if unknown:
                raise TemplateError(f"{p}: languages.{lang}.fmt.{k} has unknown placeholder(s) {sorted(unknown)}")
        checked["fmt"] = dict(fmt)
        out[str(lang)] = checked
    return out


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _templates() -> dict[str, dict[str, Any]]:
    with _lock:
        return load_templates()


def supported_languages() -> tuple[str, ...]:
    """Languages with a full set of templates."""
    return tuple(_templates())


#: Languages with full templates in the packaged YAML (others get English text).
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "es", "fr", "de", "pt")


def reply_language(assessment_language: str | None, locale: str | None) -> str:
    """Language of the reply: the message's language when we have templates for
    it, else the locale's language when supported, else English.

    A person writing in Spanish gets Spanish even with an ``en-US`` locale;
    a ``es-MX`` locale gets Spanish when the message language is unknown.
    """
    have = _templates()
    if assessment_language and assessment_language.lower() in have:
        return assessment_language.lower()
    lang, _country = parse_locale(locale)
    if lang and lang in have:
        return lang
    return "en"


# --------------------------------------------------------------------------- #
# Rendering
# --------------------------------------------------------------------------- #


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:  # never leak "{...}" to a user
        return ""


def _fill(text: str, **values: str) -> str:
    return text.format_map(_SafeDict(values))


def _join_or(items: list[str], word_or: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word_or} " + items[-1]


def _format_resource(r: Resource, fmt: dict[str, str], local_emergency: str) -> str:
    if r.kind == "emergency" and not r.phone:
        return f"- {local_emergency[:1].upper()}{local_emergency[1:]}"
    channels: list[str] = []
    if r.phone:
        phones = [r.phone, *r.alt_phones[:1]]
        channels.append(_fill(fmt["call"], phone=f" {fmt['or']} ".join(phones)))
    if r.sms:
        if r.sms_keyword:
            channels.append(_fill(fmt["text_keyword"], keyword=r.sms_keyword, sms=r.sms))
        else:
            channels.append(_fill(fmt["text"], sms=r.sms))
    if r.whatsapp:
        channels.append(_fill(fmt["whatsapp"], whatsapp=r.whatsapp))
    if r.chat_url:
        channels.append(_fill(fmt["chat"], chat_url=r.chat_url))
    if not channels and r.url:
        channels.append(_fill(fmt["web"], url=r.url))
    # Exactly "24/7" is localised; anything more specific is shown as written (accuracy first).
    hours = fmt["hours_247"] if r.hours.strip() == "24/7" else r.hours
    name = fmt["emergency_label"] if r.kind == "emergency" else r.name
    line = f"- {name}: {_join_or(channels, fmt['or'])}"
    if hours:
        line += f" ({hours})"
    return line


def _prefer_language(lines: tuple[Resource, ...], lang: str) -> tuple[Resource, ...]:
    """Stable re-order: lines answering in ``lang`` first (e.g. French line first in BE for fr)."""
    return tuple(sorted(lines, key=lambda r: 0 if (not r.languages or lang in r.languages) else 1))


def _pick(rng: random.Random, options: list[str]) -> str:
    return rng.choice(options)


def _clinic_contact_text(clinic: ClinicContact) -> str:
    bits = [b for b in (clinic.contact, clinic.phone, clinic.booking_url) if b]
    return ", ".join(bits)


def _primary_category(categories: tuple[str, ...]) -> str:
    for c in categories:
        if c in _QUESTION_KEYS:
            return c
    return "default"


def respond(
    assessment: Assessment,
    locale: str | None = None,
    clinic: ClinicContact | None = None,
    *,
    seed: int | None = None,
) -> CrisisReply:
    """Build the crisis reply for an assessment.

    Args:
        assessment: result of :func:`safety.screen`. Levels below ``crisis``
            are treated as ``crisis`` (this function is only called for crisis
            routing; erring toward more help is the safe failure).
        locale: BCP 47 / POSIX locale or country code, for resources and
            language (see :func:`reply_language`).
        clinic: optional clinic contacts, mentioned in the text and appended
            to the resources (never replacing the national crisis line).
        seed: RNG seed for variant choice; ``None`` -> random.

    Returns:
        :class:`CrisisReply`. Never raises for a valid assessment: if the
        templates or directory fail to load, those errors propagate
        (:class:`TemplateError`, ``ResourceDirectoryError``) because they are
        deployment bugs caught by the unit tests.
    """
    level = assessment.level if assessment.level >= Level.CRISIS else Level.CRISIS
    categories = tuple(assessment.categories)
    emergency_first = level >= Level.EMERGENCY or "medical_emergency" in categories
    lang = reply_language(assessment.language, locale)
    t = _templates()[lang]
    fmt = t["fmt"]
    rng = random.Random(seed)

    rs = resources_for(locale, clinic)
    if emergency_first:
        rs = rs.with_emergency_first()
    emergency = rs.emergency_number or fmt["local_emergency"]

    paragraphs: list[str] = []
    if emergency_first:
        paragraphs.append(_fill(_pick(rng, t["emergency_first"]), emergency=emergency))
    primary = _primary_category(categories)
    paragraphs.append(_pick(rng, t["opening"]) + " " + _pick(rng, t["safety_question"][primary]))

    if "abuse" in categories:
        paragraphs.append(_fill(_pick(rng, t["abuse"]), emergency=emergency))
    if "harm_to_others" in categories:
        paragraphs.append(_pick(rng, t["harm_to_others"]))
    if "third_party" in categories:
        paragraphs.append(_fill(_pick(rng, t["third_party"]), emergency=emergency))

    # Resources block: AI disclosure leads into the people who can help.
    lines: list[str] = []
    if rs.is_international:
        bridge = _pick(rng, t["ai_bridge"]).rstrip().rstrip(":") + "."
        intro = bridge + " " + _pick(rng, t["international_intro"])
        shown = [r for r in rs.resources if r.kind in ("emergency", "directory")]
    else:
        intro = _pick(rng, t["ai_bridge"])
        shown = list(rs.of_kind("emergency")) + list(_prefer_language(rs.crisis_lines, lang)[:3])
        if not rs.crisis_lines:
            shown += list(rs.of_kind("youth_line")[:1])
    for r in shown:
        lines.append(_format_resource(r, fmt, fmt["local_emergency"]))
    block = intro + "\n" + "\n".join(lines)
    if "abuse" in categories and rs.dv_lines:
        block += "\n" + _pick(rng, t["dv_intro"]) + "\n" + "\n".join(
            _format_resource(r, fmt, fmt["local_emergency"]) for r in rs.dv_lines[:2]
        )
    paragraphs.append(block)

    if clinic is not None and clinic.is_configured and (clinic.name or _clinic_contact_text(clinic)):
        contact = _clinic_contact_text(clinic)
        name = clinic.name or ("tu clínica" if lang == "es" else "your clinic")
        sentence = _fill(_pick(rng, t["clinic"]), clinic_name=name, clinic_contact=contact or name)
        paragraphs.append(re.sub(r":\s*\.$", ".", sentence))

    paragraphs.append(_pick(rng, t["trusted_person"]))
    # At an emergency the next step is getting help there, not a breathing exercise.
    step = t["next_step_emergency"] if emergency_first else t["next_step"]
    paragraphs.append(_pick(rng, step) + " " + _pick(rng, t["door_open"]))

    return CrisisReply(
        text="\n\n".join(paragraphs),
        resources=rs,
        level=level,
        language=lang,
        categories=categories,
        emergency_first=emergency_first,
    )


def _line_label(r: Resource, fmt: dict[str, str]) -> str:
    channels: list[str] = []
    if r.phone:
        channels.append(r.phone)
    if r.sms and r.sms != r.phone:
        channels.append(_fill(fmt["text_keyword"], keyword=r.sms_keyword, sms=r.sms) if r.sms_keyword else _fill(fmt["text"], sms=r.sms))
    if r.chat_url:
        channels.append(r.chat_url)
    if not channels and r.url:
        channels.append(r.url)
    return f"{r.name} ({_join_or(channels, fmt['or'])})" if channels else r.name


def concern_pointer(
    locale: str | None = None,
    clinic: ClinicContact | None = None,
    *,
    language: str | None = None,
    seed: int | None = None,
) -> str:
    """A soft one-line pointer for level ``concern``.

    E.g. ``"If it would help, Clinic A is there for you (Dr X, 555 1234), and
    you can also reach Samaritans (116 123) any time."``

    Args:
        locale: locale or country code for the line and the language.
        clinic: optional clinic contacts (mentioned first when configured).
        language: message language, preferred over the locale's (see
            :func:`reply_language`).
        seed: RNG seed for variant choice; ``None`` -> random.
    """
    lang = reply_language(language, locale)
    t = _templates()[lang]
    fmt = t["fmt"]
    rng = random.Random(seed)
    rs = resources_for(locale)
    lines = _prefer_language(rs.crisis_lines, lang) or rs.of_kind("directory")
    line = _line_label(lines[0], fmt) if lines else fmt["local_emergency"]
    if clinic is not None and clinic.is_configured and (clinic.name or _clinic_contact_text(clinic)):
        name = clinic.name or ("tu clínica" if lang == "es" else "your clinic")
        contact = _clinic_contact_text(clinic) or name
        return _fill(_pick(rng, t["concern_pointer_clinic"]), clinic_name=name, clinic_contact=contact, line=line)
    return _fill(_pick(rng, t["concern_pointer"]), line=line)
