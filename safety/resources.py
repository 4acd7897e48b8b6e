"""Crisis resources directory: emergency numbers, crisis lines, text/chat, DV lines.

The directory is data (``safety/data/resources.yaml``, reviewed by a clinician
or safety lead); this module validates it once at first use (pydantic) and
answers one question: *which resources does a person in this locale see?*

    >>> rs = resources_for("es-MX")
    >>> rs.country, rs.emergency_number, rs.resources[0].phone
    ('MX', '911', '800 911 2000')

Routing rules:

* the **country** comes from the locale's region (``es-MX`` -> MX, ``en_GB`` ->
  GB) or from a bare country code (``"MX"``); a language alone (``"es"``) or an
  unknown country gives the **international** set (directory links plus
  "call your local emergency number") -- never a guess from the language;
* resources are ordered: 24/7 crisis lines, other crisis lines, text/chat
  lines, youth lines, domestic-violence lines, then clinic entries;
* a clinic's contacts are **added** (kind ``"clinic"``); they never replace or
  precede the national crisis line;
* entries marked ``verified: false`` in the YAML are kept for review but are
  not shown to users.

Sources of every number are in the YAML (``source`` URL + ``checked`` date).
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from safety.locale import parse_locale

__all__ = [
    "ClinicContact",
    "Resource",
    "ResourceSet",
    "ResourceDirectoryError",
    "resources_for",
    "load_directory",
    "known_countries",
    "DATA_PATH",
]

#: Default location of the directory data.
DATA_PATH = Path(__file__).resolve().parent / "data" / "resources.yaml"

ResourceKind = Literal[
    "crisis_line", "text_line", "chat", "youth_line", "dv_line", "emergency", "directory", "clinic"
]

# Sort order inside a ResourceSet (lower first). Emergency entries are only put
# first by ResourceSet.with_emergency_first().
_KIND_ORDER = {
    "emergency": 0,
    "crisis_line": 1,
    "text_line": 2,
    "chat": 3,
    "youth_line": 4,
    "dv_line": 5,
    "directory": 6,
    "clinic": 7,
}


class ResourceDirectoryError(ValueError):
    """The resources YAML is missing or invalid; the message names the bad entry."""


# --------------------------------------------------------------------------- #
# Public value objects
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Resource:
    """One way to reach help.

    Attributes:
        name: display name (in the service's own language).
        kind: ``crisis_line`` | ``text_line`` | ``chat`` | ``youth_line`` |
            ``dv_line`` | ``emergency`` | ``directory`` | ``clinic``.
        phone: number to call as dialled locally; ``alt_phones``: other numbers.
        sms: number to text; ``sms_keyword``: word to text to it (``"SHOUT"``).
        whatsapp: WhatsApp number, when the service offers one.
        chat_url: web chat address; ``url``: home page.
        hours: ``"24/7"`` or free text.
        source: URL of the page that confirmed the entry; ``checked``: ISO date.
        verified: confirmed on ``source`` on ``checked`` (clinic entries: ``True``).
        id, languages, region, note: bookkeeping and display hints.
    """

    name: str
    kind: str
    phone: str | None = None
    sms: str | None = None
    chat_url: str | None = None
    url: str | None = None
    hours: str = "24/7"
    source: str = ""
    checked: str = ""
    sms_keyword: str | None = None
    whatsapp: str | None = None
    alt_phones: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    region: str | None = None
    note: str | None = None
    verified: bool = True
    id: str | None = None

    @property
    def is_24_7(self) -> bool:
        """True when the service answers around the clock."""
        return self.hours.strip().startswith("24/7")

    @property
    def has_text_or_chat(self) -> bool:
        """True when it can be reached without a voice call."""
        return bool(self.sms or self.chat_url or self.whatsapp)

    def contact_tokens(self) -> tuple[str, ...]:
        """Numbers and web addresses of this resource, for presence checks.

        Phone-like values are returned as digit strings (``"8009112000"``);
        URLs as host + path without scheme or ``www.`` (``"988lifeline.org/chat"``).
        """
        out: list[str] = []
        for num in (self.phone, self.sms, self.whatsapp, *self.alt_phones):
            d = digits(num)
            if d:
                out.append(d)
        for u in (self.chat_url, self.url):
            if u:
                out.append(_bare_url(u))
        return tuple(dict.fromkeys(out))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "phone": self.phone,
            "alt_phones": list(self.alt_phones),
            "sms": self.sms,
            "sms_keyword": self.sms_keyword,
            "whatsapp": self.whatsapp,
            "chat_url": self.chat_url,
            "url": self.url,
            "hours": self.hours,
            "languages": list(self.languages),
            "region": self.region,
            "note": self.note,
            "source": self.source,
            "checked": self.checked,
            "verified": self.verified,
        }


@dataclass(frozen=True)
class ClinicContact:
    """Contacts of the clinic / therapist embedding the companion.

    Clinic entries are *added* to a :class:`ResourceSet` (kind ``"clinic"``);
    they never replace the national crisis line.

    Attributes:
        name: clinic or therapist name shown to the person.
        contact: free text, e.g. ``"Dr. Ana Ruiz, on call weekdays 9-17"``.
        phone: clinic phone; booking_url: web booking page.
        hours: when the clinic contact answers (free text, optional).
        extra_resources: further resources the clinic wants shown (e.g. a
            regional crisis team); kept after the national lines.
    """

    name: str | None = None
    contact: str | None = None
    phone: str | None = None
    booking_url: str | None = None
    extra_resources: tuple[Resource, ...] = ()
    hours: str | None = None

    @property
    def is_configured(self) -> bool:
        """True when there is anything to show."""
        return bool(self.name or self.contact or self.phone or self.booking_url or self.extra_resources)

    def as_resource(self) -> Resource | None:
        """The clinic itself as a ``kind="clinic"`` resource (``None`` if empty)."""
        if not (self.name or self.contact or self.phone or self.booking_url):
            return None
        return Resource(
            name=self.name or "Your clinic",
            kind="clinic",
            phone=self.phone,
            url=self.booking_url,
            hours=self.hours or "clinic hours",
            note=self.contact,
            source="clinic configuration",
            checked="",
            verified=True,
            id="clinic",
        )


@dataclass(frozen=True)
class ResourceSet:
    """The resources shown to one person.

    Attributes:
        country: ISO 3166-1 alpha-2 code, or ``None`` for the international set.
        emergency_number: the country's emergency number (``"911"``), or
            ``None`` when the country is unknown (say "your local emergency
            number" instead -- see :attr:`emergency_display`).
        resources: ordered tuple of :class:`Resource` (see module docstring).
        country_name: display name of the country (``"International"`` if none).
        emergency_alt_numbers: other emergency numbers (``("112",)`` in GB).
        emergency_source: URL confirming the emergency number.
    """

    country: str | None
    emergency_number: str | None
    resources: tuple[Resource, ...] = field(default_factory=tuple)
    country_name: str = "International"
    emergency_alt_numbers: tuple[str, ...] = ()
    emergency_source: str = ""

    @property
    def is_international(self) -> bool:
        """True when no country could be determined."""
        return self.country is None

    @property
    def emergency_display(self) -> str:
        """Emergency number for display, or ``"your local emergency number"``."""
        return self.emergency_number or "your local emergency number"

    def of_kind(self, *kinds: str) -> tuple[Resource, ...]:
        """Resources whose kind is one of ``kinds``, in set order."""
        return tuple(r for r in self.resources if r.kind in kinds)

    @property
    def crisis_lines(self) -> tuple[Resource, ...]:
        """Crisis, text and chat lines (not DV, not clinic)."""
        return self.of_kind("crisis_line", "text_line", "chat")

    @property
    def dv_lines(self) -> tuple[Resource, ...]:
        """Domestic-violence lines."""
        return self.of_kind("dv_line")

    @property
    def clinic_resources(self) -> tuple[Resource, ...]:
        """Entries contributed by the clinic configuration."""
        return tuple(r for r in self.resources if r.kind == "clinic" or r.id and r.id.startswith("clinic"))

    def contact_tokens(self) -> tuple[str, ...]:
        """All numbers (digits) and URLs (bare) of the set, emergency number included."""
        out: list[str] = []
        for num in (self.emergency_number, *self.emergency_alt_numbers):
            d = digits(num)
            if d:
                out.append(d)
        for r in self.resources:
            out.extend(r.contact_tokens())
        return tuple(dict.fromkeys(out))

    def with_emergency_first(self) -> "ResourceSet":
        """Copy with an ``emergency`` resource first (for level ``emergency``)."""
        rest = tuple(r for r in self.resources if r.kind != "emergency")
        if self.emergency_number:
            first = Resource(
                name=f"Emergency services ({self.emergency_number})",
                kind="emergency",
                phone=self.emergency_number,
                alt_phones=self.emergency_alt_numbers,
                hours="24/7",
                source=self.emergency_source,
                checked="",
                id=f"{(self.country or 'xx').lower()}-emergency",
            )
        else:
            first = _directory().generic_emergency
        return replace(self, resources=(first, *rest))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``{country, country_name, emergency_number, ..., resources[]}``."""
        return {
            "country": self.country,
            "country_name": self.country_name,
            "emergency_number": self.emergency_number,
            "emergency_alt_numbers": list(self.emergency_alt_numbers),
            "emergency_source": self.emergency_source,
            "resources": [r.to_dict() for r in self.resources],
        }


# --------------------------------------------------------------------------- #
# YAML schema (pydantic): validated once at load
# --------------------------------------------------------------------------- #

_PHONE = re.compile(r"^[0-9+*#()\- ]{2,25}$")


class _Sourced(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    checked: _dt.date
    verified: bool = True

    @field_validator("source")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+\.[^\s]+$", v or ""):
            raise ValueError("source must be an http(s) URL")
        return v


class _ResourceModel(_Sourced):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str = Field(min_length=2)
    kind: Literal["crisis_line", "text_line", "chat", "youth_line", "dv_line", "emergency", "directory"]
    phone: str | None = None
    alt_phones: list[str] = []
    sms: str | None = None
    sms_keyword: str | None = None
    whatsapp: str | None = None
    chat_url: str | None = None
    url: str | None = None
    hours: str = Field(min_length=2)
    languages: list[str] = []
    region: str | None = None
    note: str | None = None

    @field_validator("phone", "sms", "whatsapp")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v is not None and not _PHONE.match(v):
            raise ValueError(f"{v!r} is not a phone number (digits, spaces, + * # ( ) -)")
        return v

    @field_validator("alt_phones")
    @classmethod
    def _alts(cls, v: list[str]) -> list[str]:
        for p in v:
            if not _PHONE.match(p):
                raise ValueError(f"{p!r} is not a phone number")
        return v

    @field_validator("chat_url", "url")
    @classmethod
    def _web(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://\S+$", v):
            raise ValueError("must be an http(s) URL")
        return v

    @model_validator(mode="after")
    def _reachable(self) -> "_ResourceModel":
        if self.kind != "emergency" and not (self.phone or self.sms or self.whatsapp or self.chat_url or self.url):
            raise ValueError("needs at least one of phone, sms, whatsapp, chat_url, url")
        if self.sms_keyword and not self.sms:
            raise ValueError("sms_keyword needs sms")
        return self

    def to_resource(self) -> Resource:
        return Resource(
            id=self.id,
            name=self.name,
            kind=self.kind,
            phone=self.phone,
            alt_phones=tuple(self.alt_phones),
            sms=self.sms,
            sms_keyword=self.sms_keyword,
            whatsapp=self.whatsapp,
            chat_url=self.chat_url,
            url=self.url,
            hours=self.hours,
            languages=tuple(self.languages),
            region=self.region,
            note=self.note,
            source=self.source,
            checked=self.checked.isoformat(),
            verified=self.verified,
        )


class _EmergencyModel(_Sourced):
    number: str
    alt_numbers: list[str] = []

    @field_validator("number")
    @classmethod
    def _num(cls, v: str) -> str:
        if not re.match(r"^[0-9]{3,5}$", v):
            raise ValueError(f"emergency number {v!r} must be 3-5 digits")
        return v


class _CountryModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    emergency: _EmergencyModel
    resources: list[_ResourceModel]

    @model_validator(mode="after")
    def _has_crisis_line(self) -> "_CountryModel":
        if not any(r.kind == "crisis_line" and r.verified for r in self.resources):
            raise ValueError("needs at least one verified crisis_line")
        return self


class _InternationalModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resources: list[_ResourceModel]
    generic_emergency: _ResourceModel


class _DirectoryModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    international: _InternationalModel
    countries: dict[str, _CountryModel]

    @field_validator("countries")
    @classmethod
    def _codes(cls, v: dict[str, _CountryModel]) -> dict[str, _CountryModel]:
        for code in v:
            if not re.match(r"^[A-Z]{2}$", str(code)):
                raise ValueError(f"country key {code!r} must be an ISO 3166-1 alpha-2 code")
        return v

    @model_validator(mode="after")
    def _unique_ids(self) -> "_DirectoryModel":
        seen: set[str] = set()
        all_res = [*self.international.resources, self.international.generic_emergency]
        for c in self.countries.values():
            all_res.extend(c.resources)
        for r in all_res:
            if r.id in seen:
                raise ValueError(f"duplicate resource id {r.id!r}")
            seen.add(r.id)
        return self


@dataclass(frozen=True)
class _Country:
    code: str
    name: str
    emergency_number: str
    emergency_alt_numbers: tuple[str, ...]
    emergency_source: str
    resources: tuple[Resource, ...]  # all, verified or not


@dataclass(frozen=True)
class Directory:
    """The validated directory: countries by code plus the international set."""

    countries: dict[str, _Country]
    international: tuple[Resource, ...]
    generic_emergency: Resource


def _describe_error(raw: dict[str, Any], err: dict[str, Any]) -> str:
    """Turn a pydantic error into 'countries.US.resources[0] (id us-988).source: msg'."""
    loc = list(err.get("loc", ()))
    parts: list[str] = []
    node: Any = raw
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
        try:
            node = node[item]
        except (KeyError, IndexError, TypeError):
            node = None
        if isinstance(node, dict) and "id" in node and isinstance(item, int):
            parts.append(f" (id {node['id']!r})")
    return f"{''.join(parts) or '<root>'}: {err.get('msg')}"


def load_directory(path: str | Path | None = None) -> Directory:
    """Read and validate a resources YAML file.

    Args:
        path: YAML file; defaults to :data:`DATA_PATH`.

    Returns:
        The validated :class:`Directory`.

    Raises:
        ResourceDirectoryError: the file is missing, not YAML, or an entry is
            invalid; the message names the entry (``countries.US.resources[0]
            (id 'us-988').source: ...``).
    """
    p = Path(path) if path is not None else DATA_PATH
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResourceDirectoryError(f"cannot read resources directory {p}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ResourceDirectoryError(f"resources directory {p} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ResourceDirectoryError(f"resources directory {p}: top level must be a mapping")
    try:
        model = _DirectoryModel.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_describe_error(raw, e) for e in exc.errors()[:10])
        raise ResourceDirectoryError(f"invalid resources directory {p}: {problems}") from None

    countries = {
        code: _Country(
            code=code,
            name=c.name,
            emergency_number=c.emergency.number,
            emergency_alt_numbers=tuple(c.emergency.alt_numbers),
            emergency_source=c.emergency.source,
            resources=tuple(r.to_resource() for r in c.resources),
        )
        for code, c in model.countries.items()
    }
    return Directory(
        countries=countries,
        international=tuple(r.to_resource() for r in model.international.resources),
        generic_emergency=model.international.generic_emergency.to_resource(),
    )


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _directory() -> Directory:
    with _lock:
        return load_directory()


def known_countries() -> tuple[str, ...]:
    """Country codes present in the directory, sorted."""
    return tuple(sorted(_directory().countries))


# --------------------------------------------------------------------------- #
# Look-up
# --------------------------------------------------------------------------- #


def digits(value: str | None) -> str:
    """Digits of a phone-like string (``"800 911 2000"`` -> ``"8009112000"``)."""
    return re.sub(r"\D", "", value or "")


def _bare_url(url: str) -> str:
    u = re.sub(r"^https?://", "", url.strip().lower())
    u = re.sub(r"^www\.", "", u)
    return u.rstrip("/")


def _sort_key(indexed: tuple[int, Resource]) -> tuple[int, int, int]:
    i, r = indexed
    # 24/7 crisis lines before part-time ones; otherwise keep YAML order.
    return (_KIND_ORDER.get(r.kind, 9), 0 if (r.kind != "crisis_line" or r.is_24_7) else 1, i)


def _country_code(locale_or_country: str | None) -> str | None:
    if not locale_or_country:
        return None
    _lang, country = parse_locale(locale_or_country)
    return country


def resources_for(
    locale_or_country: str | None,
    clinic: ClinicContact | None = None,
    *,
    include_unverified: bool = False,
) -> ResourceSet:
    """Resources for a locale (``"es-MX"``, ``"en_GB"``) or country (``"MX"``).

    Args:
        locale_or_country: BCP 47 / POSIX locale or ISO country code. A
            language alone (``"es"``) or an unknown country yields the
            international set (``country=None``, ``emergency_number=None``).
        clinic: optional clinic contacts, appended as ``kind="clinic"``.
        include_unverified: also return entries marked ``verified: false``
            (for review tools only; never for users).

    Returns:
        A :class:`ResourceSet` ordered crisis lines -> text/chat -> youth ->
        DV -> directories -> clinic.

    Raises:
        ResourceDirectoryError: the packaged YAML is invalid (a deployment bug).
    """
    d = _directory()
    code = _country_code(locale_or_country)
    country = d.countries.get(code) if code else None

    if country is not None:
        base = country.resources
        rs_kwargs: dict[str, Any] = {
            "country": country.code,
            "country_name": country.name,
            "emergency_number": country.emergency_number,
            "emergency_alt_numbers": country.emergency_alt_numbers,
            "emergency_source": country.emergency_source,
        }
    else:
        base = (*d.international, d.generic_emergency)
        rs_kwargs = {"country": None, "country_name": "International", "emergency_number": None}

    shown = [r for r in base if include_unverified or r.verified]
    ordered = [r for _i, r in sorted(enumerate(shown), key=_sort_key)]
    if country is None:
        # "Call your local emergency number" leads the international set.
        ordered = [r for r in ordered if r.kind == "emergency"] + [r for r in ordered if r.kind != "emergency"]

    if clinic is not None and clinic.is_configured:
        taken = {t for r in ordered for t in r.contact_tokens()}
        own = clinic.as_resource()
        if own is not None:
            ordered.append(own)
        for extra in clinic.extra_resources:
            if set(extra.contact_tokens()) & taken:
                continue  # same number as a national line: do not duplicate
            ordered.append(
                replace(
                    extra,
                    source=extra.source or "clinic configuration",
                    id=extra.id or f"clinic-extra-{len(ordered)}",
                )
            )
    return ResourceSet(resources=tuple(ordered), **rs_kwargs)
