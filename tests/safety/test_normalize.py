"""Layer 1: normalisation undoes obfuscation without mangling ordinary text."""

from __future__ import annotations

import pytest

from safety.normalize import fold, normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("K1LL  mysełf", "kill myself"),  # leetspeak + Polish ł
        ("k.i.l.l myself", "kill myself"),  # punctuation inside a word
        ("k-i-l-l myself", "kill myself"),
        ("k i l l  m y s e l f", "kill myself"),  # spacing trick, segmented
        ("i w a n t t o d i e", "i want to die"),
        ("killlll myself", "kill myself"),  # repeated letters
        ("kiiilll myself", "kill myself"),
        ("\u043aill myself", "kill myself"),  # Cyrillic к
        ("su\u200bici\u200dde", "suicide"),  # zero-width characters
        ("s\u00adu\u00adi\u00adcide", "suicide"),  # soft hyphens
        ("su1c1de", "suicide"),
        ("$uicide", "suicide"),
        ("s*icide", "suicide"),  # censoring asterisk
        ("ＫＩＬＬ myself", "kill myself"),  # full-width letters (NFKC)
        ("suicde", "suicide"),  # misspellings
        ("sucidal", "suicidal"),
        ("sewerslide", "suicide"),  # algospeak
        ("kms", "kill myself"),
        ("unalive myself", "kill myself"),
        ("I want to self delete", "i want to kill myself"),
        ("i wanna kys", "i want to kill myself"),  # kys about oneself
        ("you should kys", "you should kill yourself"),  # kys at someone else
        ("i overdoes on my meds", "i overdose on my meds"),
        ("kil myself", "kill myself"),
        ("urge to sh again", "urge to self harm again"),
        ("I can't go on", "i can not go on"),  # contractions
    ],
)
def test_obfuscation_is_repaired(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


@pytest.mark.parametrize(
    "raw",
    ["kill -9 1234", "take 10mg at 2am", "my sh script is broken", "I need to catch the bus at 8"],
)
def test_ordinary_tokens_are_left_alone(raw: str) -> None:
    assert normalize(raw).text == raw.lower()


def test_german_im_is_not_read_as_english_im() -> None:
    assert "im bett" in normalize("ich liege den ganzen Tag im Bett", locale="de-DE").text


def test_accents_fold_for_patterns() -> None:
    assert fold("Quiero suicidarme, ¿sabés?") == "quiero suicidarme,  sabes?"


def test_lone_surrogates_are_replaced_not_fatal() -> None:
    n = normalize("\ud800 I want to die")
    assert n.text == "i want to die"
    assert "surrogates" in n.transforms


def test_emoji_only_is_flagged_without_letters() -> None:
    n = normalize("🔪🩸")
    assert not n.has_letters
    assert n.risk_emoji == ("knife", "blood")


def test_language_detection_uses_locale_hint() -> None:
    assert normalize("no", locale="es-MX").language == "es"
    assert normalize("je me sens tellement seule ce soir").language == "fr"


def test_transforms_hold_ids_not_text() -> None:
    n = normalize("k1ll myself")
    assert n.transforms == ("leet",)


def test_newlines_become_sentences() -> None:
    n = normalize("first line\nsecond line")
    assert n.sentences == ("first line", "second line")
