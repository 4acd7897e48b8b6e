"""Locale parsing and the crisis resources directory."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import yaml

from safety.locale import parse_locale
from safety.resources import (
    DATA_PATH,
    ClinicContact,
    Resource,
    ResourceDirectoryError,
    known_countries,
    load_directory,
    resources_for,
)

REQUIRED_COUNTRIES = {
    "US", "CA", "MX", "GB", "IE", "ES", "FR", "DE", "AT", "CH", "IT", "PT", "BR", "AR",
    "CO", "CL", "AU", "NZ", "IN", "ZA", "JP", "NL", "BE", "SE", "NO", "DK", "FI", "PL",
}


# --------------------------------------------------------------------------- locale


@pytest.mark.parametrize(
    "tag, expected",
    [
        ("es-MX", ("es", "MX")),
        ("es-ES", ("es", "ES")),
        ("pt-BR", ("pt", "BR")),
        ("en", ("en", None)),
        ("es", ("es", None)),
        ("en_GB", ("en", "GB")),
        ("en-gb", ("en", "GB")),
        ("en_GB.UTF-8", ("en", "GB")),
        ("de_DE@euro", ("de", "DE")),
        ("MX", (None, "MX")),
        ("zh-Hant-TW", ("zh", "TW")),
        ("es-419", ("es", None)),  # Latin America is a region, not a country
        ("sr-Latn", ("sr", None)),
        ("C", (None, None)),
        ("", (None, None)),
        (None, (None, None)),
        ("!!", (None, None)),
    ],
)
def test_parse_locale(tag, expected):
    assert tuple(parse_locale(tag)) == expected


# --------------------------------------------------------------------------- look-up


def test_language_is_not_country_es_mx_routes_to_mexico():
    rs = resources_for("es-MX")
    assert rs.country == "MX"
    assert rs.emergency_number == "911"
    assert rs.resources[0].name == "Línea de la Vida"
    assert rs.resources[0].phone == "800 911 2000"


@pytest.mark.parametrize("tag", ["en_GB", "en-gb", "en-GB", "GB", "cy_GB.UTF-8"])
def test_gb_spellings_route_to_gb(tag):
    rs = resources_for(tag)
    assert rs.country == "GB"
    assert rs.resources[0].phone == "116 123"  # Samaritans


def test_bare_country_code():
    assert resources_for("MX").country == "MX"
    assert resources_for("BR").resources[0].phone == "188"


@pytest.mark.parametrize("tag", ["es", "en", None, "", "xx-ZZ", "zh-Hant-TW", "es-419"])
def test_language_only_or_unknown_falls_back_to_international(tag):
    rs = resources_for(tag)
    assert rs.country is None
    assert rs.is_international
    assert rs.emergency_number is None
    assert rs.emergency_display == "your local emergency number"
    kinds = [r.kind for r in rs.resources]
    assert kinds[0] == "emergency"  # "call your local emergency number" leads
    assert any(r.url == "https://findahelpline.com" for r in rs.resources)


def test_every_country_has_emergency_and_a_crisis_line_first():
    for code in known_countries():
        rs = resources_for(code)
        assert rs.emergency_number and re.fullmatch(r"\d{3,5}", rs.emergency_number), code
        assert rs.resources[0].kind == "crisis_line", code
        kinds = [r.kind for r in rs.resources]
        # crisis lines before text/chat, DV lines after them
        if "dv_line" in kinds:
            assert kinds.index("dv_line") > kinds.index("crisis_line"), code


def test_24_7_crisis_lines_come_before_part_time_ones():
    rs = resources_for("PT")
    assert rs.resources[0].phone == "1411" and rs.resources[0].is_24_7
    assert rs.resources[1].name == "SOS Voz Amiga" and not rs.resources[1].is_24_7


def test_text_and_chat_options_are_carried():
    us = resources_for("en-US").resources[0]
    assert (us.phone, us.sms) == ("988", "988")
    assert us.chat_url == "https://988lifeline.org/chat"
    shout = resources_for("GB").of_kind("text_line")[0]
    assert (shout.sms_keyword, shout.sms) == ("SHOUT", "85258")


def test_unverified_entries_are_hidden_from_users():
    shown = {r.id for r in resources_for("ZA").resources}
    assert "za-gbv-command-centre" not in shown
    review = {r.id for r in resources_for("ZA", include_unverified=True).resources}
    assert "za-gbv-command-centre" in review
    assert all(r.verified for code in known_countries() for r in resources_for(code).resources)


def test_with_emergency_first():
    rs = resources_for("en-AU").with_emergency_first()
    assert rs.resources[0].kind == "emergency"
    assert rs.resources[0].phone == "000"
    assert rs.resources[1].phone == "13 11 14"  # Lifeline still there, right after
    intl = resources_for("es").with_emergency_first()
    assert intl.resources[0].kind == "emergency" and intl.resources[0].phone is None


def test_to_dict_is_json_ready():
    d = resources_for("es-MX", ClinicContact(name="Clínica Sol", phone="55 1234 5678")).to_dict()
    again = json.loads(json.dumps(d))
    assert again["country"] == "MX"
    assert again["emergency_number"] == "911"
    assert again["resources"][0]["source"].startswith("https://")
    assert again["resources"][-1]["kind"] == "clinic"


def test_contact_tokens_normalise_numbers_and_links():
    tokens = resources_for("GB").contact_tokens()
    assert "116123" in tokens and "999" in tokens and "85258" in tokens
    assert "samaritans.org" in tokens


# --------------------------------------------------------------------------- clinic


def test_clinic_is_added_and_never_replaces_the_national_line():
    clinic = ClinicContact(
        name="Clinic A", contact="Dr. Lee, on call 9-17", phone="555 0100", booking_url="https://clinic-a.example/book"
    )
    plain = resources_for("en-US")
    rs = resources_for("en-US", clinic)
    assert rs.resources[0] == plain.resources[0]  # 988 still first, unchanged
    assert [r for r in rs.resources if r.phone == "988"]
    clinic_entries = rs.of_kind("clinic")
    assert len(clinic_entries) == 1
    assert clinic_entries[0].name == "Clinic A" and clinic_entries[0].phone == "555 0100"
    assert rs.resources.index(clinic_entries[0]) > rs.resources.index(plain.resources[0])
    assert len(rs.resources) == len(plain.resources) + 1


def test_clinic_extra_resources_are_appended_without_duplicating_national_numbers():
    regional = Resource(name="County crisis team", kind="crisis_line", phone="555 0199", hours="24/7")
    dup = Resource(name="Lifeline again", kind="crisis_line", phone="988")
    rs = resources_for("US", ClinicContact(name="Clinic A", extra_resources=(regional, dup)))
    names = [r.name for r in rs.resources]
    assert names[0] == "988 Suicide & Crisis Lifeline"
    assert "County crisis team" in names
    assert "Lifeline again" not in names
    assert names.index("County crisis team") > names.index("988 Suicide & Crisis Lifeline")


def test_empty_clinic_adds_nothing():
    assert resources_for("US", ClinicContact()) == resources_for("US")


# --------------------------------------------------------------------------- the data itself


def _raw() -> dict:
    return yaml.safe_load(DATA_PATH.read_text(encoding="utf-8"))


def _all_entries(raw: dict):
    for r in raw["international"]["resources"]:
        yield "international", r
    yield "international", raw["international"]["generic_emergency"]
    for code, c in raw["countries"].items():
        yield code, {**c["emergency"], "id": f"{code}-emergency"}
        for r in c["resources"]:
            yield code, r


def test_at_least_25_countries_including_the_required_ones():
    raw = _raw()
    assert len(raw["countries"]) >= 25
    assert REQUIRED_COUNTRIES <= set(raw["countries"])


def test_every_entry_has_a_source_url_and_a_checked_date():
    for where, entry in _all_entries(_raw()):
        label = f"{where}/{entry.get('id')}"
        assert re.match(r"^https?://\S+\.\S+", str(entry.get("source", ""))), label
        checked = entry.get("checked")
        if isinstance(checked, str):
            checked = dt.date.fromisoformat(checked)
        assert isinstance(checked, dt.date), label
        assert dt.date(2020, 1, 1) <= checked <= dt.date.today(), label
        assert isinstance(entry.get("verified", True), bool), label


def test_numbers_look_like_numbers():
    for where, entry in _all_entries(_raw()):
        for key in ("phone", "sms", "number", "whatsapp"):
            if entry.get(key):
                assert re.fullmatch(r"[0-9+*#()\- ]{2,25}", entry[key]), f"{where}/{entry.get('id')}.{key}"


def test_invalid_directory_names_the_bad_entry(tmp_path: Path):
    raw = _raw()
    del raw["countries"]["MX"]["resources"][0]["source"]
    bad = tmp_path / "resources.yaml"
    bad.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ResourceDirectoryError) as err:
        load_directory(bad)
    msg = str(err.value)
    assert "countries.MX.resources[0]" in msg and "mx-linea-de-la-vida" in msg and "source" in msg


def test_country_without_verified_crisis_line_is_rejected(tmp_path: Path):
    raw = _raw()
    for r in raw["countries"]["FR"]["resources"]:
        r["verified"] = False
    bad = tmp_path / "resources.yaml"
    bad.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ResourceDirectoryError, match="countries.FR"):
        load_directory(bad)


def test_missing_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ResourceDirectoryError, match="cannot read"):
        load_directory(tmp_path / "nope.yaml")
