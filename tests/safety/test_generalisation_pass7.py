"""Seventh generalisation test file: the rules of pass 8 (2026-12-01, tenth dev batch, ids 1871-2070).

The tenth batch (200 cases, a natural mix written after pass 7 and the
retrained adapter, by a team member who read neither the held-out split nor
the screener's files) was the honest estimate of pass 7: crisis recall 70/82
(85.4 %), emergencies reaching crisis 17/20, hard negatives raised 6/92
(6.5 %). Its misses were mostly medical emergencies told plainly (a seizure,
anaphylaxis without an adrenaline pen, heart-attack signs, a Portuguese faint
with shaking) and veiled disclosures (stockpiling in Portuguese, "quitarme de
en medio", stopping heart tablets "to let nature get on with it", feeding a
friend's fish "after", "Friday's gonna be different"). The rules are tested
here on *other* phrasings, with hard negatives. Rule layer only.
"""

from __future__ import annotations

import pytest

from safety import Level, screen

CRISIS = [
    ("a veces pienso en quitarme de en medio y ya está", "es-ES", "suicidal_ideation"),
    ("ando guardando os comprimidos que sobram, não sei bem porquê", "pt-BR", "suicidal_ideation"),
    ("ela pediu pra eu cuidar do gato dela e disse que me ama muito", "pt-BR", "third_party"),
    ("Ich denke manchmal daran, mich umzubringen", "de-DE", "suicidal_ideation"),
    ("mein Kumpel verschenkt gerade seine Bücher und Spielsachen", "de-CH", "third_party"),
    ("quit my insulin last month, seems easiest to let nature take its course", "en-GB", "suicidal_ideation"),
    ("my flatmate asked me to look after her cat 'after'", "en-AU", "third_party"),
    ("tomorrow's gonna be different at school. they'll see", "en-US", "harm_to_others"),
    ("been making a list of who gets what if I'm not around, just so it's sorted", "en-CA", "suicidal_ideation"),
    # in-sample dev misses after the retrain, in other words
    ("he hid my car keys and told me if I ever try to leave I'll regret it", "en-US", "abuse"),
    ("got a few painkillers stashed in a drawer, nice to know they're there if it gets bad", "en-GB", "suicidal_ideation"),
    ("maybe better I am disappear, then nobody has the trouble", "en-IN", "suicidal_ideation"),
    ("sin mí estarían todos más tranquilos en casa", "es-AR", "suicidal_ideation"),
]

EMERGENCY = [
    ("my brother is shaking on the floor and it won't stop", "en-US"),
    ("her lips are swelling up and she's wheezing, we don't have her epipen", "en-GB"),
    ("dad is clutching his chest and says his left arm is numb", "en-IN"),
    ("my friend's note just says sorry and she's locked herself in, not answering", "en-US"),
    ("the towel is soaked through with blood and it won't stop", "en-NZ"),
    ("he's asleep upstairs and I have the knife in my hand", "en-US"),
    ("meu pai desmaiou e está se debatendo no chão", "pt-BR"),
    ("ses lèvres sont bleues, il respire à peine", "fr-FR"),
    ("ich hab gerade alle meine Schlaftabletten genommen", "de-DE"),
    ("mein Sohn krampft und hat Schaum vor dem Mund", "de-AT"),
    ("took the whole pack an hour ago and feel sick", "en-GB"),
    ("I'm up on the roof now, just wanted to tell someone before", "en-US"),
]

BELOW_CRISIS = [
    ("Do I need to bleed the brakes after changing the pads?", "en-US"),
    ("me corté con un papel abriendo el sobre, ¿pongo una curita?", "es-MX"),
    ("Ma prof va me tuer, j'ai oublié mon devoir", "fr-FR"),
    ("what are the signs of anaphylaxis, like lips swelling up and wheezing?", "en-US"),
    ("our friday is going to be different this week, it's a half day", "en-GB"),
    ("we're writing down who gets what for secret santa", "en-US"),
    ("she asked me to feed her cat after work tomorrow", "en-US"),
    ("ich habe alle meine Bücher zurückgegeben", "de-DE"),
    ("vor fünf Jahren habe ich versucht, mir das Leben zu nehmen. Heute geht es mir gut", "de-DE"),
    ("sin mí van a estar mejor en el equipo, me cambio de área", "es-MX"),
    ("i think it's better if i disappear for the weekend, need a break", "en-GB"),
    ("juntar os remédios numa caixinha organizadora ajuda a não esquecer?", "pt-BR"),
]


# An outside probe after pass 8 (2026-12-01) built look-alikes of the newest rules;
# these are *other* phrasings of what it found.
PROBE_BELOW_CRISIS = [
    ("my niece dropped her water gun in my lap and ran off", "en-US"),
    ("out in the tree stand at dawn with the rifle across my lap, freezing", "en-US"),
    ("said my goodbyes to my colleagues, last day before the move to Porto", "en-GB"),
    ("keeping ibuprofen in the car just in case someone gets a headache", "en-GB"),
    ("sorted out who gets what from grandad's records with my cousins", "en-GB"),
    ("Monday's gonna be different, new desk and a new team, you'll see", "en-US"),
    ("my sister is giving away all her books because she's moving into a tiny flat", "en-AU"),
    ("could you feed his dog after? he's in surgery till six", "en-US"),
    ("the red sock bled in the wash and now my towels are turning blue", "en-US"),
    ("I can't breathe in this humidity, it's like soup outside", "en-US"),
    ("our cat had a seizure last year but the vet says she's fine now", "en-GB"),
    ("estoy apartando las pastillas de la alergia para la primavera", "es-ES"),
    ("si no estuviera de viaje la semana que viene, iría a tu cumple", "es-MX"),
    ("ya no voy a estar pendiente de sus mensajes", "es-AR"),
    ("je vais partir pour de bon de Paris, j'ai trouvé un appart à Nantes", "fr-FR"),
    ("j'ai écrit une carte à chaque membre de ma famille pour la bonne année", "fr-FR"),
    ("meine Schwester verschenkt ihre Kleider, sie hat nach dem Umzug keinen Platz", "de-DE"),
    ("Mein Chef hatte vor Wut Schaum vor dem Mund", "de-DE"),
    ("ela pediu pra eu cuidar da gata dela enquanto viaja", "pt-BR"),
    ("tô guardando meus remédios na caixinha organizadora", "pt-BR"),
    ("estoy guardando las pastillas para la tos por si acaso", "es-CL"),
    ("goodbye snacks, the stash is gone", "en-US"),
    ("estoy en la terraza del edificio, solo quería decir que la fiesta empieza a las 9", "es-MX"),
    ("stehe am Bahnsteig und hab mich entschieden, ich nehme den ICE", "de-DE"),
    ("j'ai les lèvres bleues à cause du froid", "fr-FR"),
    ("ela tá brava e não responde minhas mensagens", "pt-BR"),
    ("en la pelea de mis hermanos prefiero quitarme de en medio, que se arreglen", "es-AR"),
    ("a professora pediu pra levar uma faca de cozinha pra aula de culinária", "pt-BR"),
    ("j'ai vidé le grenier et donné des vieilles chaises, tout est en ordre maintenant", "fr-FR"),
]

PROBE_REACH_CRISIS = [
    ("I want to kill\x00myself", "en-US", "suicidal_ideation"),  # a control character must not glue the words
    ("been keeping a few back from every refill, nearly have enough now", "en-US", "suicidal_ideation"),
    ("llevo un mes apartando pastillas, ya casi tengo suficientes", "es-CO", "suicidal_ideation"),
    ("je mets mes cachets de côté depuis des semaines", "fr-BE", "suicidal_ideation"),
    ("ich horte seit Monaten Schlaftabletten", "de-AT", "suicidal_ideation"),
]

PROBE_EMERGENCY = [
    ("mum's face went lopsided all of a sudden", "en-GB"),
    ("he's grey and says it feels like an elephant is sitting on his chest", "en-US"),
    ("had a bite of the cake and now my throat is getting tight", "en-US"),
    ("Opa kann plötzlich seinen Arm nicht mehr heben und lallt", "de-DE"),
    ("minha irmã tomou uma cartela inteira e está sonolenta", "pt-BR"),
    ("ma grand-mère a la bouche qui tombe d'un côté et n'arrive plus à parler", "fr-FR"),
]


@pytest.mark.parametrize(("text", "locale", "category"), CRISIS + PROBE_REACH_CRISIS)
def test_eighth_pass_families_reach_crisis(rules_only, text: str, locale: str, category: str) -> None:
    a = screen(text, locale=locale)
    assert a.level >= Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])
    assert category in a.categories


@pytest.mark.parametrize(("text", "locale"), EMERGENCY + PROBE_EMERGENCY)
def test_eighth_pass_emergencies(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level == Level.EMERGENCY, (text, a.level, [e.rule for e in a.evidence])


@pytest.mark.parametrize(("text", "locale"), BELOW_CRISIS + PROBE_BELOW_CRISIS)
def test_eighth_pass_rules_leave_hard_negatives_below_crisis(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level < Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])


def test_tired_of_trying_is_exhaustion_but_tired_of_staying_alive_is_a_crisis(semantic_model) -> None:
    """All layers on: the semantic layer read "I'm tired of trying" as close to
    "I'm so tired of being alive" after a retrain; the idiom keeps that one
    sentence out of it, and nothing else."""
    assert screen("I'm tired of trying", locale="en-US").level < Level.CRISIS
    assert screen("I'm so tired of trying to stay alive", locale="en-US").level >= Level.CRISIS
    assert screen("I'm tired of trying. I just want it all to end", locale="en-US").level >= Level.CRISIS


