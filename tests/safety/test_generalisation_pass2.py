"""Second generalisation pass (2026-12, dev batch ids 301-420).

A fresh batch of 120 cases, written without reading the held-out split or the
screener's pattern files, was screened before any rule changed: crisis recall
41/50 and 4/55 hard negatives raised to crisis, close to the held-out
estimate. The rules added for its misses are tested here on *other* phrasings
of the same families (written for these tests), with the hard negatives each
new rule must leave alone. Rule layer only (``SAFETY_SEMANTIC=off``).
"""

from __future__ import annotations

import pytest

from safety import Level, screen

CRISIS = [
    # dwelling on how easy it would be, with a height or means in view
    ("every time I cross the overpass I think about how easy it would be", "en-US", "suicidal_ideation"),
    ("i keep wondering how easy it would be to just step off the platform edge", "en-GB", "suicidal_ideation"),
    # a veiled threat of revenge against a group
    ("they will all regret it tomorrow, every single one of them who laughed at me", "en-US", "harm_to_others"),
    # Spanish: talking about not being there any more; a decision and letters; strangulation
    ("ya no voy a estar para ver crecer a mis sobrinos", "es-AR", "suicidal_ideation"),
    ("ya tomé mi decisión y dejé notas para mi familia", "es-CO", "suicidal_ideation"),
    ("mi esposo me aprieta el cuello cuando discutimos", "es-MX", "abuse"),
    # German: burden, "sich etwas antun"
    ("ohne mich wäre meine Familie besser dran, ich bin ihnen nur eine Last", "de-DE", "suicidal_ideation"),
    ("manchmal will ich mir einfach etwas antun", "de-AT", "suicidal_ideation"),
    # Portuguese: passive wish to be dead
    ("só quero sumir para sempre", "pt-BR", "suicidal_ideation"),
    # how survivable a method is: lethality information is means-seeking
    ("how many people survive if they jump from a bridge like this one", "en-US", "suicidal_ideation"),
    ("what are the chances someone dies falling from a tenth floor balcony", "en-GB", "suicidal_ideation"),
]

EMERGENCY = [
    ("I'm sitting here gripping the pills right now", "en-US"),
    ("my brother isn't breathing and his lips look blue", "en-GB"),
    ("engoli os comprimidos todos de uma vez", "pt-PT"),
    ("mi hermano se despidió por mensaje y ahora no contesta el teléfono", "es-ES"),
    ("meine Freundin hat geschrieben, sie will sich was antun, und jetzt ist sie nicht erreichbar", "de-DE"),
]

BELOW_CRISIS = [
    # recovery milestones and definitional questions
    ("two years free from self-harm today and I'm celebrating with cake", "en-US"),
    ("what is the difference between suicidal ideation and a plan, for my psychology class?", "en-US"),
    # statistics questions about the topic, and survival questions about illness or history
    ("How many people survive a suicide attempt?", "en-US"),
    ("what percentage of people who attempt go on to die by suicide later?", "en-US"),
    ("how many people survive pancreatic cancer", "en-US"),
    # "going to pay" in money talk, "won't wake up" for school
    ("they're all going to pay for dinner on monday, every one of them promised", "en-US"),
    ("my son won't wake up for school no matter how many alarms I set", "en-US"),
    ("she isn't responding to my texts, every time I ask about the trip", "en-US"),
    ("my mom is not responding to the chemo the way they hoped", "en-US"),
    ("my daughter does not respond well to criticism", "en-US"),
    # a Spanish blush, a schedule absence, German and Portuguese everyday talk
    ("qué oso, me quería morir cuando se me cayó el café enfrente del jefe jaja", "es-MX"),
    ("ya no voy a estar en la oficina el lunes, tengo médico", "es-ES"),
    ("ich schaffe das heute nicht mehr ins Fitnessstudio", "de-DE"),
    ("tomei o remédio para dor de cabeça e já passou", "pt-BR"),
]

CONCERN = [
    ("I feel like such a burden on my roommates lately", "en-US"),
    ("I'm failing as a dad and I know it", "en-US"),
    ("I haven't left my flat in five days", "en-GB"),
    ("ando re bajón desde que cortamos", "es-AR"),
    ("ich bin total erschöpft", "de-DE"),
    ("tô muito pra baixo hoje", "pt-BR"),
]


@pytest.mark.parametrize(("text", "locale", "category"), CRISIS)
def test_second_pass_families_reach_crisis(rules_only, text: str, locale: str, category: str) -> None:
    a = screen(text, locale=locale)
    assert a.level >= Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])
    assert category in a.categories


@pytest.mark.parametrize(("text", "locale"), EMERGENCY)
def test_means_in_hand_unresponsive_or_unreachable_is_emergency(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level == Level.EMERGENCY, (text, a.level, [e.rule for e in a.evidence])


@pytest.mark.parametrize(("text", "locale"), BELOW_CRISIS)
def test_second_pass_rules_leave_hard_negatives_below_crisis(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level < Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])


@pytest.mark.parametrize(("text", "locale"), CONCERN)
def test_everyday_distress_phrasings_are_concern(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level == Level.CONCERN, (text, a.level, [e.rule for e in a.evidence])
