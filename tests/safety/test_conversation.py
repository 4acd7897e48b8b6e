"""Layer 4: risk that only shows across turns (history = earlier USER messages)."""

from __future__ import annotations

import pytest

from safety import Level, screen
from safety.conversation import TurnSignals, assess_conversation


@pytest.fixture(autouse=True)
def rules_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFETY_SEMANTIC", "off")


def test_job_loss_nothing_matters_then_tallest_bridge_is_crisis() -> None:
    history = ["I lost my job today", "nothing matters anymore"]
    q = "how tall is the tallest bridge near here"
    assert screen(q).level < Level.CRISIS  # alone: a tourist question
    a = screen(q, history=history)
    assert a.level >= Level.CRISIS
    assert "suicidal_ideation" in a.categories


def test_distress_then_pill_quantity_is_crisis() -> None:
    a = screen("how many of my pills would be too many", history=["I feel so alone", "I can't do this anymore"])
    assert a.level >= Level.CRISIS


def test_means_seeking_alone_is_crisis() -> None:
    assert screen("what's the lethal dose of my sleeping pills").level >= Level.CRISIS


def test_retraction_after_disclosure_keeps_crisis() -> None:
    a = screen("never mind, forget I said anything", history=["I want to kill myself"])
    assert a.level >= Level.CRISIS


def test_benign_history_does_not_escalate_travel_question() -> None:
    a = screen("what's the tallest building in the city? we want the view", history=["we're visiting Madrid", "what should we see?"])
    assert a.level < Level.CRISIS


def test_means_in_hand_after_means_talk_is_emergency() -> None:
    a = screen("i'm holding them now", history=["i've been so down", "i keep thinking about the pills in the cabinet"])
    assert a.level == Level.EMERGENCY


def test_means_in_hand_after_goodbye_letters_is_emergency() -> None:
    """Letters written, then "everything here with me now": preparation done
    and the means at hand. The same words after a packing list are not."""
    history = ["wrote letters to my mum and my sister tonight", "they'll find them tomorrow"]
    a = screen("I've got everything here with me now", history=history, locale="en-GB")
    assert a.level == Level.EMERGENCY
    assert "suicidal_ideation" in a.categories
    packing = ["packing for the festival", "tent, sleeping bag, snacks"]
    assert screen("I've got everything here with me now", history=packing, locale="en-GB").level < Level.CRISIS


def test_spanish_accumulation() -> None:
    a = screen("¿cuál es el puente más alto de la ciudad?", history=["perdí mi trabajo", "nada tiene sentido"], locale="es-ES")
    assert a.level >= Level.CRISIS


def test_unit_rules_of_accumulation() -> None:
    distress = TurnSignals(Level.CONCERN, frozenset({"distress", "risk"}))
    calm = TurnSignals(Level.NONE, frozenset())
    means = TurnSignals(Level.NONE, frozenset({"means_weak"}))
    assert assess_conversation(means, [calm, calm])[0] == Level.NONE
    assert assess_conversation(means, [distress])[0] == Level.CRISIS
    assert assess_conversation(calm, [])[0] == Level.NONE
    crisis = TurnSignals(Level.CRISIS, frozenset({"risk"}), ("suicidal_ideation",))
    lvl, ev, cats = assess_conversation(TurnSignals(Level.NONE, frozenset({"retraction"})), [crisis])
    assert lvl == Level.CRISIS and "suicidal_ideation" in cats and ev[0].layer == "conversation"


def test_history_is_cached_not_rescreened(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    screen_mod = importlib.import_module("safety.screen")

    calls = {"n": 0}
    real = screen_mod._single

    def counting(text, locale, use_semantic=True, **kw):
        calls["n"] += 1
        return real(text, locale, use_semantic, **kw)

    monkeypatch.setattr(screen_mod, "_single", counting)
    hist = ["a first message about my week 123", "a second message about dinner 456"]
    screen("third", history=hist)
    first = calls["n"]
    screen("fourth", history=hist)
    assert calls["n"] - first == 1  # only the new message
