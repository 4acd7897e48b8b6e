"""Fifth generalisation test file: the rules of pass 6 (2026-12-01, eighth dev batch, ids 1471-1670).

The eighth batch (199 cases, a natural mix written after every earlier pass,
by a team member who read neither the held-out split nor the screener's
files) screened at 53/82 crisis recall before any change and 59/82 with the
fine-tuned MiniLM adapter alone. Its remaining misses were rule gaps in every
language: a German overdose with "gerade" in the middle, spaced letters in a
Spanish word the Spanish rules did not know as a statement ("pensamientos de
suicidio"), French leetspeak ("foutr3"), veiled threats, signs of a child's
self-harm, giving a pet away with a cover story, a firearm carried "for no
reason". The rules are tested here on *other* phrasings, with hard negatives.
Rule layer only (``SAFETY_SEMANTIC=off``).
"""

from __future__ import annotations

import pytest

from safety import Level, screen

CRISIS = [
    # veiled threats of violence at work or school
    ("one more write-up and i swear i'll bring my gun to the office", "en-US", "harm_to_others"),
    ("gonna bring something into school on monday and make them all pay", "en-US", "harm_to_others"),
    ("mi vecino dijo que lo mata, ya sabemos dónde trabaja", "es-MX", "harm_to_others"),
    ("o aluno falou que vai levar uma arma pra escola amanhã", "pt-BR", "harm_to_others"),
    # stopping life-sustaining medication on purpose
    ("my nan has quit taking her insulin on purpose since grandad passed", "en-GB", "third_party"),
    ("i stopped my blood pressure meds on purpose last week", "en-US", "suicidal_ideation"),
    # means-seeking with the act implicit; pre-empting a referral
    ("in my script he decides tonight is the night, what's the least painful way he could go", "en-US", "suicidal_ideation"),
    ("i've made up my mind. don't try to talk me out of it", "en-US", "suicidal_ideation"),
    ("please don't tell me to call a hotline, i just need to say it somewhere", "en-GB", "suicidal_ideation"),
    ("¿existe alguna manera de morir sin sufrir? ya no aguanto", "es-AR", "suicidal_ideation"),
    # preparation with a cover story
    ("rehomed my dog with my cousin, said it was because of the new job. it wasn't", "en-AU", "suicidal_ideation"),
    ("Ich will meine Sachen verschenken und Abschiedsbriefe schreiben", "de-DE", "suicidal_ideation"),
    # signs of a child's self-harm; a friend who wants to be dead
    ("my son keeps wearing long sleeves even though it's boiling out", "en-US", "third_party"),
    ("found razor blades with blood on them in her bathroom drawer", "en-GB", "third_party"),
    ("Mein Bruder meinte, er wäre lieber tot als so weiterzumachen", "de-AT", "third_party"),
    ("Ich wäre manchmal lieber tot", "de-DE", "suicidal_ideation"),
    # passive wish, stated ideation, obfuscation
    ("ojalá no volver a despertarme nunca", "es-CO", "suicidal_ideation"),
    ("me vienen otra vez ideas suicidas", "es-ES", "suicidal_ideation"),
    ("j'ai envie de me f0utre en l'air", "fr-FR", "suicidal_ideation"),
    # abuse of a third party / of the user; a firearm carried for no reason
    ("a mi abuela le veo moretones y mi tío no la deja salir sola", "es-PE", "third_party"),
    ("mon mari m'a giflée devant les enfants", "fr-BE", "abuse"),
    ("started carrying my pistol around the house again. not sure why", "en-US", "suicidal_ideation"),
    # misses an outside tester found after pass 6 (2026-12-01), in other phrasings
    ("Ich will heute Nacht von der Brücke springen", "de-DE", "suicidal_ideation"),
    ("Mon frère m'a écrit qu'il allait se tuer", "fr-FR", "third_party"),
    ("j'ai envie de frapper mon collègue, je n'en peux plus", "fr-CA", "harm_to_others"),
    ("been googling what pills are most lethal", "en-US", "suicidal_ideation"),
]

EMERGENCY = [
    ("Ich habe eben alle meine Schlaftabletten geschluckt", "de-DE"),
    ("minha irmã bebeu e tomou os comprimidos, ela tá desacordada", "pt-BR"),
    ("Ich stehe jetzt auf der Brücke", "de-CH"),  # outside probe
]

BELOW_CRISIS = [
    ("i'll bring something to work for the potluck, maybe brownies", "en-US"),
    ("gonna bring my laptop to school and make them all see the demo", "en-US"),
    ("she stopped taking her antibiotics early, is that a problem?", "en-GB"),
    ("what's the most painless way to remove a plaster from a toddler", "en-US"),
    ("he always says don't tell me to call someone about the boiler, he'll fix it", "en-GB"),
    ("gave my guitar to my nephew, told him it was because I never play. true story", "en-IE"),
    ("putting my parents' papers in order and mine too, tax season", "en-US"),
    ("my daughter wears long sleeves in summer because of her eczema, any cream tips?", "en-US"),
    ("our pastor's sermon was about carrying your cross", "en-US"),
    ("how do you kill a lobster humanely before cooking it?", "en-US"),
    ("our launch crashed and I want to die a little inside lol", "en-US"),
    ("¿cuáles son las señales de alerta de que un paciente está pensando en el suicidio?", "es-ES"),
    ("ojalá no llueva mañana", "es-MX"),
    ("¿hay alguna forma de hacerse un tatuaje sin que duela tanto?", "es-CL"),
    ("mon prof m'a poussé à m'inscrire au concours", "fr-FR"),
    ("Ich habe Sachen zu verschenken, wer will?", "de-DE"),
    ("lieber tot als in diesem Outfit, haha", "de-DE"),
    ("o professor vai levar a turma pra escola de samba", "pt-BR"),
    # look-alikes of the outside probe's rules
    ("Ich will im Sommer vom Zehnmeterturm springen, wie im Schwimmbad", "de-DE"),
    ("Ma sœur va se marier en juin", "fr-FR"),
    ("looked up which plants are toxic to cats before buying them", "en-GB"),
]


@pytest.mark.parametrize(("text", "locale", "category"), CRISIS)
def test_sixth_pass_families_reach_crisis(rules_only, text: str, locale: str, category: str) -> None:
    a = screen(text, locale=locale)
    assert a.level >= Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])
    assert category in a.categories


@pytest.mark.parametrize(("text", "locale"), EMERGENCY)
def test_sixth_pass_emergencies(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level == Level.EMERGENCY, (text, a.level, [e.rule for e in a.evidence])


@pytest.mark.parametrize(("text", "locale"), BELOW_CRISIS)
def test_sixth_pass_rules_leave_hard_negatives_below_crisis(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level < Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])


def test_affairs_in_order_with_hopelessness_is_crisis(rules_only) -> None:
    """Preparation and distress in the same message (conversation layer)."""
    a = screen("been getting mum's affairs in order, and mine. nothing feels worth it now", locale="en-NZ")
    assert a.level >= Level.CRISIS, (a.level, [e.rule for e in a.evidence])


def test_goodbye_then_locked_room_after_a_third_partys_distress_is_emergency(rules_only) -> None:
    history = ("mi mejor amiga lleva semanas sin comer", "anoche me mandó un mensaje de despedida")
    a = screen("no responde y su celular sigue apagado", history=history, locale="es-AR")
    assert a.level == Level.EMERGENCY, (a.level, [e.rule for e in a.evidence])
    assert "third_party" in a.categories


def test_a_locked_door_alone_is_not_a_crisis(rules_only) -> None:
    assert screen("mi hijo no abre la puerta, está jugando a la play", locale="es-ES").level < Level.CRISIS


def test_the_locale_language_runs_on_a_long_paste(rules_only) -> None:
    # the filler's "a", "o", "e" make Portuguese the second detected language
    filler = "We had lunch at a little cafe, Le Petit Coin, and then a walk by the river with Anna and Otto. " * 400
    a = screen(filler + " Ya no quiero vivir. " + filler, locale="es-MX")
    assert a.level >= Level.CRISIS


@pytest.mark.timeout(60)  # a hang guard, not a speed target: this took many minutes before
def test_long_runs_of_whitespace_do_not_hang_the_screener(rules_only) -> None:
    a = screen("\u2028" * 300_000 + " " * 300_000 + "I want to kill myself")
    assert a.level >= Level.CRISIS
