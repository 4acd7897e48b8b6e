"""Crisis replies: safe-messaging content, routing, languages and variation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from safety.levels import Assessment, Level
from safety.resources import ClinicContact, resources_for
from safety.respond import TEMPLATES_PATH, TemplateError, concern_pointer, load_templates, respond

BANNED = [
    "i can't talk about this",
    "i cannot talk about this",
    "can't talk about",
    "promise me",
    "promise you won't",
    "goodbye",
    "no puedo hablar de esto",
    "prométeme",
    "promete que no",
    "adiós",
]
CATEGORIES = [
    ("suicidal_ideation",),
    ("self_harm",),
    ("harm_to_others",),
    ("abuse",),
    ("third_party",),
    ("medical_emergency",),
    (),
]


def _a(level=Level.CRISIS, categories=("suicidal_ideation",), language=None) -> Assessment:
    return Assessment(level, tuple(categories), (), language)


def _safety_question(text: str, lang: str) -> bool:
    if lang == "es":
        return bool(re.search(r"¿[^?]*(salvo|segur|vida|suicid|daño|peligro|contigo|sola)[^?]*\?", text, re.I))
    return bool(re.search(r"[^.?!]*(safe|ending your life|suicide|killing yourself|hurt|danger|with you)[^.?!]*\?", text, re.I))


# --------------------------------------------------------------------------- content


@pytest.mark.parametrize("categories", CATEGORIES)
@pytest.mark.parametrize("seed", range(4))
def test_english_crisis_reply_has_every_safe_messaging_element(categories, seed):
    r = respond(_a(categories=categories), "en-US", seed=seed)
    t = r.text
    assert _safety_question(t, "en"), t
    assert "988" in t  # the 24/7 national line
    assert "text 988" in t and "988lifeline.org/chat" in t  # not only "call"
    assert re.search(r"\bAI\b", t)  # honest about being an AI
    assert re.search(r"someone you trust|person you could contact|someone near you", t)
    if r.emergency_first:  # medical emergency: the next step is getting help there
        assert re.search(r"tell me when you've called|once you've called", t)
    else:
        assert re.search(r"grounding|safety plan|slow breaths", t)
    assert re.search(r"I'm here|I'm still here|not going anywhere|keep writing", t)
    low = t.lower()
    assert not any(b in low for b in BANNED), t
    assert "{" not in t and "}" not in t


@pytest.mark.parametrize("categories", CATEGORIES)
@pytest.mark.parametrize("seed", range(3))
def test_spanish_reply_for_es_mx_uses_mexican_resources(categories, seed):
    r = respond(_a(categories=categories), "es-MX", seed=seed)
    assert r.language == "es"
    assert r.resources.country == "MX"
    assert "800 911 2000" in r.text  # Línea de la Vida
    assert "Línea de la Vida" in r.text
    assert _safety_question(r.text, "es"), r.text
    assert re.search(r"\bIA\b|inteligencia artificial", r.text)
    low = r.text.lower()
    assert not any(b in low for b in BANNED), r.text
    assert "988" not in r.text  # no US line in Mexico


def test_message_language_beats_locale_language():
    r = respond(_a(language="es"), "en-US", seed=1)
    assert r.language == "es" and "988" in r.text  # Spanish words, US resources
    r = respond(_a(language="en"), "es-MX", seed=1)
    assert r.language == "en" and "800 911 2000" in r.text


def test_other_languages_get_english_text_with_local_resources():
    r = respond(_a(language=None), "ja-JP", seed=0)
    assert r.language == "en"
    assert "0120-279-338" in r.text


# --------------------------------------------------------------------------- emergency


@pytest.mark.parametrize("locale, number, line", [("en-US", "911", "988"), ("es-MX", "911", "800 911 2000"),
                                                   ("en-GB", "999", "116 123"), ("de-DE", "112", "0800 111 0 111")])
@pytest.mark.parametrize("seed", range(3))
def test_emergency_puts_the_emergency_number_first(locale, number, line, seed):
    r = respond(_a(level=Level.EMERGENCY), locale, seed=seed)
    assert r.emergency_first
    first_paragraph = r.text.split("\n\n")[0]
    assert number in first_paragraph
    assert r.text.index(number) < r.text.index(line)
    assert r.resources.resources[0].kind == "emergency"
    assert r.resources.resources[0].phone == number
    assert any(res.phone == line for res in r.resources.resources[1:])  # crisis line kept


def test_emergency_reply_says_do_not_stay_alone():
    en = respond(_a(level=Level.EMERGENCY), "en-US", seed=0).text.split("\n\n")[0]
    assert re.search(r"don't stay alone|don't be alone|don't stay on your own", en)
    es = respond(_a(level=Level.EMERGENCY), "es-MX", seed=0).text.split("\n\n")[0]
    assert re.search(r"no te quedes solo|no estés solo", es)


def test_medical_emergency_category_goes_emergency_first_even_at_crisis_level():
    r = respond(_a(level=Level.CRISIS, categories=("medical_emergency",)), "en-AU", seed=0)
    assert r.emergency_first and r.text.startswith(r.text.split("\n\n")[0])
    assert "000" in r.text.split("\n\n")[0]


@pytest.mark.parametrize("locale", ["en-US", "es-MX", "fr-FR", "de-DE", "pt-BR"])
@pytest.mark.parametrize("seed", range(4))
def test_an_emergency_reply_ends_on_getting_help_there_not_on_a_breathing_exercise(locale, seed):
    emergency = respond(_a(level=Level.EMERGENCY, categories=("medical_emergency",)), locale, seed=seed).text
    crisis = respond(_a(level=Level.CRISIS), locale, seed=seed).text
    last = emergency.split("\n\n")[-1].lower()
    assert not re.search(r"breath|respir|atme|atem|grounding|five things|cinco cosas|cinq choses|fünf dinge|cinco coisas|plan", last)
    assert re.search(r"phone|teléfono|téléphone|telefon|telefone", last)
    assert re.search(r"breath|respir|atme|atem|cinco|cinq|fünf|plan", crisis.split("\n\n")[-1].lower())


def test_emergency_without_country_says_local_emergency_number():
    r = respond(_a(level=Level.EMERGENCY), "es", seed=0)
    assert "número de emergencias de tu país" in r.text.split("\n\n")[0]
    r = respond(_a(level=Level.EMERGENCY), None, seed=0)
    assert "your local emergency number" in r.text.split("\n\n")[0]
    assert "findahelpline.com" in r.text


# --------------------------------------------------------------------------- categories


def test_abuse_adds_the_dv_line_and_the_persons_safety():
    r = respond(_a(categories=("abuse",)), "en-GB", seed=0)
    assert "0808 2000 247" in r.text
    assert "116 123" in r.text
    assert re.search(r"not your fault|Nobody has the right", r.text)
    assert "999" in r.text  # "if you are in danger, call 999"


def test_abuse_without_national_dv_line_still_gives_emergency_number():
    r = respond(_a(categories=("abuse",)), "es-MX", seed=0)
    assert "911" in r.text and "800 911 2000" in r.text


def test_harm_to_others_urges_distance_and_gives_the_crisis_line():
    for seed in range(2):
        r = respond(_a(categories=("harm_to_others",)), "en-US", seed=seed)
        assert re.search(r"distance between you|step away", r.text)
        assert "988" in r.text


def test_third_party_explains_how_to_help_and_when_to_call_emergency():
    for seed in range(2):
        r = respond(_a(categories=("third_party",)), "en-US", seed=seed)
        assert re.search(r"friend|person you're worried about", r.text)
        assert re.search(r"(immediate danger|right now)[^.]*call 911", r.text)
        assert "988" in r.text


def test_clinic_is_mentioned_and_national_line_kept():
    clinic = ClinicContact(name="Clinic A", contact="Dr. Lee", phone="555 0100")
    r = respond(_a(), "en-US", clinic, seed=0)
    assert "Clinic A" in r.text and "555 0100" in r.text and "Dr. Lee" in r.text
    assert "988" in r.text
    assert r.resources.resources[0].phone == "988"
    assert r.resources.of_kind("clinic")[0].name == "Clinic A"


def test_level_below_crisis_is_answered_as_crisis():
    r = respond(_a(level=Level.CONCERN), "en-US", seed=0)
    assert r.level == Level.CRISIS and "988" in r.text


# --------------------------------------------------------------------------- variation


def test_variants_differ_across_seeds_and_repeat_for_the_same_seed():
    texts = {respond(_a(), "en-US", seed=s).text for s in range(12)}
    assert len(texts) >= 6
    assert respond(_a(), "en-US", seed=5).text == respond(_a(), "en-US", seed=5).text
    es = {respond(_a(), "es-MX", seed=s).text for s in range(12)}
    assert len(es) >= 6


def test_seed_none_is_random():
    texts = {respond(_a(), "en-US").text for _ in range(15)}
    assert len(texts) > 1


def test_to_dict_is_json_ready():
    d = json.loads(json.dumps(respond(_a(level=Level.EMERGENCY), "es-MX", seed=0).to_dict()))
    assert d["level"] == "emergency" and d["language"] == "es"
    assert d["resources"]["resources"][0]["kind"] == "emergency"


# --------------------------------------------------------------------------- concern pointer


def test_concern_pointer_is_one_soft_line():
    p = concern_pointer("en-GB", seed=0)
    assert "\n" not in p and "116 123" in p and "Samaritans" in p
    clinic = ClinicContact(name="Clinic A", contact="Dr. Lee", phone="555 0100")
    pc = concern_pointer("en-GB", clinic, seed=0)
    assert "Clinic A" in pc and "555 0100" in pc and "116 123" in pc
    es = concern_pointer("es-MX", seed=0)
    assert "Línea de la Vida" in es and "800 911 2000" in es and ("cualquier momento" in es or "disponible" in es)
    intl = concern_pointer(None, seed=0)
    assert "findahelpline.com" in intl


# --------------------------------------------------------------------------- templates as data


def test_packaged_templates_contain_no_banned_phrases():
    raw = TEMPLATES_PATH.read_text(encoding="utf-8").lower()
    body = "\n".join(line for line in raw.splitlines() if not line.lstrip().startswith("#"))
    for b in BANNED:
        assert b not in body, b


def test_template_loader_rejects_single_variant_and_unknown_placeholder(tmp_path: Path):
    raw = yaml.safe_load(TEMPLATES_PATH.read_text(encoding="utf-8"))
    raw["languages"]["en"]["door_open"] = ["Only one."]
    p = tmp_path / "t.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TemplateError, match=r"languages\.en\.door_open"):
        load_templates(p)
    raw = yaml.safe_load(TEMPLATES_PATH.read_text(encoding="utf-8"))
    raw["languages"]["es"]["opening"][0] = "Hola {nombre}"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TemplateError, match=r"languages\.es\.opening\[0\].*nombre"):
        load_templates(p)


def test_every_country_reply_lists_its_first_crisis_line():
    from safety.resources import known_countries

    for code in known_countries():
        rs = resources_for(code)
        r = respond(_a(), code, seed=0)
        first = rs.crisis_lines[0]
        assert first.phone in r.text or (first.sms and first.sms in r.text), code


@pytest.mark.parametrize("locale, lang, must", [
    ("fr-FR", "fr", "3114"), ("de-DE", "de", "0800 111 0 111"), ("pt-BR", "pt", "188"), ("pt-PT", "pt", "1411"),
])
def test_basic_french_german_portuguese(locale, lang, must):
    r = respond(_a(level=Level.EMERGENCY), locale, seed=0)
    assert r.language == lang and must in r.text
    assert re.search(r"\b(IA|KI)\b|intelligence artificielle|künstliche Intelligenz|inteligência artificial", r.text)
    assert "{" not in r.text


def test_lines_in_the_readers_language_come_first_in_multilingual_countries():
    fr = respond(_a(), "fr-BE", seed=0).text
    nl = respond(_a(language="en"), "nl-BE", seed=0).text
    assert fr.index("0800 32 123") < fr.index("1813")  # French-speaking line first for French
    assert "1813" in nl and "0800 32 123" in nl
    assert "0800 32 123" in concern_pointer("fr-BE", seed=0)


def test_supported_languages_constant_matches_the_templates():
    from safety.respond import SUPPORTED_LANGUAGES, supported_languages

    assert set(SUPPORTED_LANGUAGES) == set(supported_languages())
