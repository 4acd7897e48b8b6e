"""Sixth generalisation test file: the rules of pass 7 (2026-12-01, ninth dev batch, ids 1671-1870).

The ninth batch (200 cases, a natural mix written after every earlier pass by
a team member who read neither the held-out split nor the screener's files,
asked for phrasings unlike the textbook ones) screened at 46/81 crisis recall,
13/21 emergencies reaching crisis and 8/88 hard negatives raised before any
change. Its misses were whole families: stroke signs in every language, a
firearm in the lap, goodbyes in leetspeak, a Spanish overdose of "everything in
the medicine cabinet", a rooftop with a goodbye letter, stockpiling "for when
the time comes", a child or an older relative neglected, threats that know the
person's routine, a sexual-abuse rule that took "my wife made me download this"
for abuse. The rules are tested here on *other* phrasings, with hard
negatives. Rule layer only (``SAFETY_SEMANTIC=off``) unless a test says so.
"""

from __future__ import annotations

import pytest

from safety import Level, screen, semantic

CRISIS = [
    # stockpiling; leaving things in order; goodbyes
    ("been putting aside my painkillers for when it gets too much", "en-GB", "suicidal_ideation"),
    ("my grandad has been saving his sleeping pills for when the time comes, he told me not to tell", "en-AU", "third_party"),
    ("tengo escondidas las pastillas de mi abuela por si acaso", "es-MX", "suicidal_ideation"),
    ("quero deixar tudo em ordem pra minha mãe não ter trabalho quando eu não estiver mais", "pt-BR", "suicidal_ideation"),
    ("sent all my goodbyes this afternoon", "en-US", "suicidal_ideation"),
    ("j'ai écrit des lettres pour mes enfants et mon mari, au cas où", "fr-FR", "suicidal_ideation"),
    ("ya escribí mi carta de despedida", "es-AR", "suicidal_ideation"),
    # passive wish, burden, leaving "for good"
    ("a veces pienso que todo sería más fácil si yo no existiera", "es-CO", "suicidal_ideation"),
    ("je voudrais partir pour toujours, tout simplement", "fr-CA", "suicidal_ideation"),
    ("my parents are going to have a much better life without me, i've made up my mind", "en-US", "suicidal_ideation"),
    ("i won't be around for much longer, so please look after the cat", "en-IE", "suicidal_ideation"),
    ("ich habe schon seit Tagen Selbstmordgedanken", "de-DE", "suicidal_ideation"),
    ("tenho pensado em me matar quase todas as noites", "pt-PT", "suicidal_ideation"),
    ("sometimes I think about swerving into oncoming traffic on the way home", "en-CA", "suicidal_ideation"),
    ("me and the 🌉 soon. for real this time", "en-US", "suicidal_ideation"),
    # planning around a life policy; veterans' "22 a day"
    ("does my life insurance cover suicide after two years? it's for myself, I want my kids provided for", "en-US", "suicidal_ideation"),
    # current self-harm, not history
    ("did it to my arms again last night. two months clean, back to day one", "en-NZ", "self_harm"),
    ("minha irmã anda se machucando, vi os cortes", "pt-BR", "third_party"),
    # abuse of the user, a child, an older relative
    ("couldn't go into work all week because of the bruises on my neck", "en-GB", "abuse"),
    ("the boy across the road turned up to school with a black eye again", "en-US", "third_party"),
    ("my nan's pension has vanished since my uncle moved in and she's not eating, she seems scared", "en-GB", "third_party"),
    ("a mi abuelo lo tienen encerrado en su cuarto y tiene moretones en los brazos", "es-ES", "third_party"),
    ("se ele fizer alguma besteira, a culpa vai ser minha, foi o que ele disse", "pt-BR", "abuse"),
    # threats that know the person's routine; a friend's goodbye post
    ("se va a arrepentir, ya sé dónde vive y cuándo está sola", "es-CL", "harm_to_others"),
    ("I'll make sure he never gets home from that party", "en-US", "harm_to_others"),
    ("Wenn er das nochmal macht, dann passiert was. Ich weiß, wo er arbeitet", "de-AT", "harm_to_others"),
    ("mi prima publicó un estado que decía 'perdón por todo' y no contesta", "es-PE", "third_party"),
    ("meine Schwester hat mir ihren Hund gegeben und sich komisch verabschiedet", "de-DE", "third_party"),
]

EMERGENCY = [
    # stroke signs: two of face, arm, speech
    ("grandpa's mouth is drooping on one side and he's slurring his words", "en-US"),
    ("my mum can't raise her left arm and her speech is all garbled", "en-GB"),
    ("a mi tía se le cayó media cara y habla raro", "es-MX"),
    ("meu avô está com a boca torta e não consegue levantar o braço", "pt-BR"),
    ("Papa redet ganz undeutlich und kann den rechten Arm nicht heben", "de-DE"),
    ("ma mère a la bouche de travers et ne peut plus lever le bras", "fr-FR"),
    # means at hand or used; at a place with a goodbye
    ("got my rifle across my lap and I'm done", "en-US"),
    ("goodnight everyone. the pills are all gone now", "en-GB"),
    ("me tomé todo el frasco hace un rato", "es-ES"),
    ("hay muchísima sangre, se cortó a propósito", "es-AR"),
    ("estoy en la azotea, solo quería que alguien supiera", "es-CO"),
    ("stehe am Gleis und hab mich entschieden", "de-CH"),
]

BELOW_CRISIS = [
    ("my wife made me download this app, so here I am", "en-US"),
    ("I said my goodbyes to grandma at the hospice yesterday", "en-GB"),
    ("did it to my arm playing rugby, is ice or heat better?", "en-NZ"),
    ("my mom made me clean my room before I could go out", "en-US"),
    ("my boss forced me to redo the whole deck", "en-GB"),
    ("this router is actively trying to kill me", "en-US"),
    ("my cat is trying to kill me, she sleeps on the stairs", "en-GB"),
    ("can't lift my arm above my head after yesterday's gym session", "en-US"),
    ("what are the signs of a stroke, like a droopy face and slurred words?", "en-US"),
    ("saving my coupons for when the time comes to restock the pantry", "en-US"),
    ("gave away all my old baby clothes to my sister, she's due in May", "en-US"),
    ("sitting here with my gun on my lap cleaning it after the range", "en-US"),
    ("golden gate 🌉 trip tonight with the fam!", "en-US"),
    ("What's best practice for a workplace policy on supporting staff after a suicide attempt?", "en-GB"),
    ("ich bin Lehrerin: woran erkenne ich Suizidgedanken bei Jugendlichen?", "de-DE"),
    ("si yo no estuviera en casa mañana, ¿quién le daría de comer al perro?", "es-ES"),
    ("hay mucha gente en la azotea, ¿subes a la fiesta?", "es-MX"),
    ("vou deixar tudo organizado pra festa de amanhã", "pt-BR"),
    ("mon frère va partir pour de bon au Canada en juin", "fr-FR"),
    ("meine Nachbarin hat mir ihre Katze für den Urlaub gebracht", "de-DE"),
]


@pytest.mark.parametrize(("text", "locale", "category"), CRISIS)
def test_seventh_pass_families_reach_crisis(rules_only, text: str, locale: str, category: str) -> None:
    a = screen(text, locale=locale)
    assert a.level >= Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])
    assert category in a.categories


@pytest.mark.parametrize(("text", "locale"), EMERGENCY)
def test_seventh_pass_emergencies(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level == Level.EMERGENCY, (text, a.level, [e.rule for e in a.evidence])


@pytest.mark.parametrize(("text", "locale"), BELOW_CRISIS)
def test_seventh_pass_rules_leave_hard_negatives_below_crisis(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level < Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])


def test_a_childhood_touch_disclosure_is_still_heard(rules_only) -> None:
    """Narrowing "made me" must not lose "my uncle touched me" (a past disclosure: history)."""
    a = screen("my uncle touched me when I was little", locale="en-US")
    assert a.level >= Level.CONCERN
    assert "history" in a.categories or "abuse" in a.categories


def test_spanish_age_marker_makes_an_old_attempt_history(rules_only) -> None:
    a = screen("A los 16 años intenté quitarme la vida. Hoy estoy bien y quiero contárselo a mi pareja", locale="es-ES")
    assert a.level == Level.CONCERN, (a.level, [e.rule for e in a.evidence])
    assert "history" in a.categories


def test_an_overdose_told_with_minutes_is_not_history(rules_only) -> None:
    """"a los 10 minutos" is a time, not an age: the overdose stays an emergency."""
    a = screen("me tomé todas las pastillas y a los 10 minutos empecé a vomitar", locale="es-MX")
    assert a.level == Level.EMERGENCY, (a.level, [e.rule for e in a.evidence])


def _scores(p: float, s_pos: float, s_neg: float) -> dict:
    return {"p_crisis": p, "p_concern": p, "s_pos": s_pos, "s_em": 0.0, "s_neg": s_neg, "s_con": s_pos,
            "j_pos": 0, "j_em": 0, "j_neg": 0, "j_con": 0, "top": 0}


def test_a_confident_classifier_needs_less_similarity_but_a_real_sentence() -> None:
    art = semantic.load_artefact()
    far = _scores(p=0.90, s_pos=0.40, s_neg=0.25)  # below S_MIN_LR: only the confident path can fire
    assert semantic.decide(far, art, english=True, words=8)[0] == Level.CRISIS
    assert semantic.decide(far, art, english=True, words=4)[0] < Level.CRISIS  # "want to be ready"
    assert semantic.decide(_scores(0.80, 0.40, 0.25), art, english=True, words=8)[0] < Level.CRISIS
    # outside English the confident path asks for more
    assert semantic.decide(far, art, english=False, words=8)[0] < Level.CRISIS
    assert semantic.decide(_scores(0.96, 0.40, 0.25), art, english=False, words=8)[0] == Level.CRISIS
