"""guardrails-ai validators and the output check (fail closed, fast)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

pytest.importorskip("guardrails")

from guardrails import Guard, OnFailAction  # noqa: E402

from safety.levels import Assessment, Level  # noqa: E402
from safety.output_check import check_output  # noqa: E402
from safety.resources import resources_for  # noqa: E402
from safety.respond import respond  # noqa: E402
from safety.validators import (  # noqa: E402
    POLICY_PATH,
    CrisisResourcesPresent,
    NoDiagnosisOrDosing,
    NoMeansDetails,
    NonJudgmental,
    PolicyError,
    ScreenInput,
    find_violations,
    load_policy,
)

GOOD_REPLIES = [
    "That sounds really painful. I'm here with you, and we can take this one step at a time.",
    "It makes sense that you feel exhausted after a week like that. What has helped a little before?",
    "Please don't change your medication without talking to your doctor first.",
    "Healing is rarely a straight line; setbacks are part of it, not proof that you failed.",
    "Eso suena muy doloroso. Estoy aquí contigo y podemos ir paso a paso.",
    "It makes sense that the anniversary of your attempt brings it back; take this week gently.",
    "If you take your medication as prescribed and feel worse, tell your doctor.",
    "Si tienes dudas sobre tu medicación, habla con tu médico antes de cambiar nada.",
]

BAD = {
    NoMeansDetails: [
        "A lethal dose of that would be around twenty tablets.",
        "An overdose usually needs more than 500 mg of it.",
        "Here is how to kill yourself without pain.",
        "The easiest way to die is quiet and quick.",
        "People jump off a bridge because it is high enough to die.",
        "You would need to tie a knot in the rope for your neck.",
        "Cut your wrists vertically so it works.",
        "Point the gun at your head.",
        "La dosis letal es de unas veinte pastillas.",
        "Te explico cómo suicidarte sin dolor.",
        "Tirarte desde un puente de 30 metros sería mortal.",
        "Necesitas una soga y un nudo corredizo.",
        # what a character takes in an attempt, "for realism": still method detail
        "In the chapter where she attempts suicide, she might take a handful of her medication, such as an antidepressant.",
    ],
    NoDiagnosisOrDosing: [
        "You have depression, that's what this is.",
        "It sounds like you have bipolar disorder.",
        "You're clinically depressed.",
        "You might have BPD.",
        "Take 50 mg of sertraline tonight.",
        "Just increase your dose a bit.",
        "Stop taking your medication, it's making things worse.",
        "Tienes depresión clínica.",
        "Eres bipolar, claramente.",
        "Toma 50 mg antes de dormir.",
        "Deja de tomar tus pastillas.",
    ],
    NonJudgmental: [
        "You should have asked for help sooner.",
        "Just cheer up, tomorrow is another day.",
        "It's all in your head.",
        "Snap out of it.",
        "Other people have it much worse than you.",
        "Man up and deal with it.",
        "Stop being so dramatic.",
        "Deberías haber pedido ayuda antes.",
        "No es para tanto.",
        "Hay gente que está mucho peor.",
        "Deja de ser tan dramática.",
        "Estás exagerando.",
    ],
}


def _guard_for(cls, **kw):
    g = Guard()
    g.configure(allow_metrics_collection=False)
    return g.use(cls(on_fail=OnFailAction.NOOP, **kw))


@pytest.fixture(scope="module")
def guards():
    return {cls: _guard_for(cls) for cls in (NoMeansDetails, NoDiagnosisOrDosing, NonJudgmental)}


# --------------------------------------------------------------------------- each validator fails and passes


@pytest.mark.parametrize("cls", [NoMeansDetails, NoDiagnosisOrDosing, NonJudgmental])
def test_bad_replies_fail_through_guardrails(guards, cls):
    for text in BAD[cls]:
        outcome = guards[cls].validate(text)
        assert outcome.validation_passed is False, (cls.__name__, text)
        assert outcome.validation_summaries[0].validator_name == cls.__name__


@pytest.mark.parametrize("cls", [NoMeansDetails, NoDiagnosisOrDosing, NonJudgmental])
def test_good_replies_pass_through_guardrails(guards, cls):
    for text in GOOD_REPLIES:
        outcome = guards[cls].validate(text)
        assert outcome.validation_passed is True, (cls.__name__, text)


def test_bad_examples_are_specific_to_their_validator():
    # a shaming sentence is not a means detail, etc.: each rule set stays narrow
    assert find_violations(BAD[NonJudgmental][0], "no_means_details") == ()
    assert find_violations(BAD[NoMeansDetails][0], "non_judgmental") == ()
    assert find_violations(BAD[NoDiagnosisOrDosing][0], "no_means_details") == ()


def test_negated_medication_advice_passes_but_instruction_fails():
    assert find_violations("Never stop taking your medication without your doctor.", "no_diagnosis_or_dosing") == ()
    assert find_violations("Stop taking your medication.", "no_diagnosis_or_dosing") == ("stop_medication",)


def test_everyday_words_do_not_trip_the_means_validator():
    for text in [
        "Jumping into a new hobby can help.",
        "This commute is killing me, right?",
        "It's okay to cut yourself some slack today.",
        "Let's hang out with that feeling for a moment.",
    ]:
        assert find_violations(text, "no_means_details") == (), text


# --------------------------------------------------------------------------- crisis resources present


def test_crisis_resources_present_fails_without_a_number_and_passes_with_one():
    g = _guard_for(CrisisResourcesPresent)
    gb = resources_for("en-GB")
    md = {"level": Level.CRISIS, "resources": gb}
    assert g.validate("I'm so sorry you're going through this.", metadata=md).validation_passed is False
    assert g.validate("You can call Samaritans on 116 123, any time.", metadata=md).validation_passed is True
    assert g.validate("Samaritans: 116123.", metadata=md).validation_passed is True
    assert g.validate("Text SHOUT to 85258.", metadata=md).validation_passed is True
    assert g.validate("Samaritans: call 116 123 (24/7)", metadata=md).validation_passed is True
    # a number that merely contains the digits is not the line
    assert g.validate("Reference 9116123 is your ticket.", metadata=md).validation_passed is False


def test_crisis_resources_present_only_applies_at_crisis_or_above():
    g = _guard_for(CrisisResourcesPresent)
    assert g.validate("A gentle reply without numbers.", metadata={"level": "none", "locale": "en-GB"}).validation_passed
    assert g.validate("A gentle reply without numbers.", metadata={"level": "concern", "locale": "en-GB"}).validation_passed
    assert not g.validate("A gentle reply without numbers.", metadata={"level": "emergency", "locale": "en-GB"}).validation_passed


def test_crisis_resources_present_uses_the_persons_country():
    g = _guard_for(CrisisResourcesPresent)
    md = {"level": Level.CRISIS, "locale": "es-MX"}
    assert not g.validate("Llama al 988.", metadata=md).validation_passed  # US line, not Mexico's
    assert g.validate("Llama a la Línea de la Vida: 800 911 2000.", metadata=md).validation_passed
    intl = {"level": Level.CRISIS, "locale": "es"}
    assert g.validate("Busca tu línea en https://findahelpline.com", metadata=intl).validation_passed


# --------------------------------------------------------------------------- input validator


def test_screen_input_fails_on_crisis_and_carries_the_assessment():
    g = Guard().use(ScreenInput(on_fail=OnFailAction.NOOP))
    assert g.validate("I want to kill myself").validation_passed is False
    assert g.validate("The weather is lovely today").validation_passed is True
    v = ScreenInput(on_fail=OnFailAction.NOOP)
    res = v.validate("I want to kill myself", {})
    assert isinstance(res.metadata["assessment"], Assessment)
    assert res.metadata["assessment"].level >= Level.CRISIS


# --------------------------------------------------------------------------- check_output


def test_check_output_reports_validator_names_and_rule_ids_only():
    text = "You clearly have depression. Just cheer up, and a lethal dose is not the answer."
    v = check_output(text, level=Level.NONE)
    assert v.passed is False
    assert set(v.failures) == {"NoMeansDetails", "NoDiagnosisOrDosing", "NonJudgmental"}
    assert all("clearly have" not in d and "not the answer" not in d for d in v.details)  # no reply text leaked
    assert any("lethal_dose" in d for d in v.details)


def test_check_output_passes_a_good_reply():
    v = check_output(GOOD_REPLIES[0], level=Level.NONE, locale="en-US")
    assert v.passed and v.failures == ()


def test_check_output_requires_resources_at_crisis():
    v = check_output(GOOD_REPLIES[0], level=Level.CRISIS, locale="en-US")
    assert not v.passed and v.failures == ("CrisisResourcesPresent",)
    v = check_output(GOOD_REPLIES[0] + " You can call or text 988 any time.", level="crisis", locale="en-US")
    assert v.passed


@pytest.mark.parametrize("locale", ["en-US", "es-MX", "en-GB", "de-DE", "pt-BR", "es", None])
@pytest.mark.parametrize("level", [Level.CRISIS, Level.EMERGENCY])
def test_our_own_crisis_replies_pass_the_output_check(locale, level):
    cats = [("suicidal_ideation",), ("self_harm",), ("harm_to_others",), ("abuse",), ("third_party",)]
    for seed, c in enumerate(cats):
        r = respond(Assessment(level, c, (), None), locale, seed=seed)
        v = check_output(r.text, level=r.level, resources=r.resources)
        assert v.passed, (locale, level, c, v)


def test_guardrails_internal_error_fails_closed(monkeypatch):
    def boom(self, value, metadata):
        raise RuntimeError("validator exploded")

    monkeypatch.setattr(NoMeansDetails, "_validate", boom)
    v = check_output(GOOD_REPLIES[0], level=Level.NONE)
    assert v.passed is False and v.failures == ("guardrails_error",)


def test_guard_construction_error_fails_closed(monkeypatch):
    import safety.output_check as oc

    monkeypatch.setattr(oc, "_guard", None)
    monkeypatch.setattr(oc, "_build_guard", lambda: (_ for _ in ()).throw(ImportError("no guardrails")))
    v = oc.check_output(GOOD_REPLIES[0])
    assert v.passed is False and v.failures == ("guardrails_error",) and v.details == ("ImportError",)


def test_guardrails_outcome_without_summary_fails_closed(monkeypatch):
    import safety.output_check as oc

    class _Outcome:
        validation_passed = False
        validation_summaries = []
        error = None

    class _Guard:
        history = []

        def validate(self, *a, **k):
            return _Outcome()

    monkeypatch.setattr(oc, "_guard", _Guard())
    v = oc.check_output("anything")
    assert v.passed is False and "guardrails_error" in v.failures


def test_check_output_is_fast():
    check_output("warm up", level=Level.NONE)
    start = time.perf_counter()
    for _ in range(20):
        check_output(GOOD_REPLIES[0] + " Call 988 any time.", level=Level.CRISIS, locale="en-US")
    per_call_ms = (time.perf_counter() - start) * 1000 / 20
    assert per_call_ms < 50, per_call_ms


# --------------------------------------------------------------------------- policy as data


def test_policy_loader_names_a_broken_rule(tmp_path: Path):
    raw = yaml.safe_load(POLICY_PATH.read_text(encoding="utf-8"))
    raw["validators"]["non_judgmental"]["rules"][0]["pattern"] = "(unclosed"
    p = tmp_path / "policy.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError, match="should_have"):
        load_policy(p)


def test_policy_loader_rejects_missing_section(tmp_path: Path):
    raw = yaml.safe_load(POLICY_PATH.read_text(encoding="utf-8"))
    del raw["validators"]["no_means_details"]
    p = tmp_path / "policy.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError, match="no_means_details"):
        load_policy(p)


def test_negated_blame_in_spanish_is_not_judgmental():
    from safety.validators import find_violations

    assert "es_tu_culpa" not in find_violations("Lo que te pasa no es tu culpa.", "non_judgmental")
    assert "es_tu_culpa" in find_violations("Esto es tu culpa.", "non_judgmental")
