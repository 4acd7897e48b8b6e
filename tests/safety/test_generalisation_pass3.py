"""Third generalisation pass (2026-11-30, dev batch ids 421-580).

A fresh batch of 160 cases, weighted towards what is hard to catch (veiled
ideation, preparation, disguised means questions, other languages) and
written without reading the held-out split or the screener's files, was
screened before any change: crisis recall 45/72 (62.5 %) and 6/68 hard
negatives raised to crisis. Training the semantic classifier on the dev split
too raised recall on that batch to 54/72 before any rule changed; the rules
added for its remaining misses are tested here on *other* phrasings of the same
families (written for these tests), with the hard negatives each new rule must
leave alone. Rule layer only (``SAFETY_SEMANTIC=off``), so a rule that stops
working cannot hide behind the classifier.
"""

from __future__ import annotations

import pytest

from safety import Level, screen

CRISIS = [
    # a decision with a date, told to someone first
    ("i have made up my mind. friday. just so someone knows", "en-US", "suicidal_ideation"),
    # nothing left keeping them alive
    ("now that she's gone there's nothing keeping me here", "en-GB", "suicidal_ideation"),
    # a euphemism for an attempt
    ("i'm scared i'll do something stupid tonight", "en-US", "suicidal_ideation"),
    # a "just curious" question about taking a whole box
    ("just curious, what would happen if someone took the entire bottle of their sleeping tablets", "en-US",
     "suicidal_ideation"),
    # a veiled threat built on someone's routine
    ("i know exactly when she leaves the gym. she'll learn what it feels like", "en-US", "harm_to_others"),
    # a partner's threat, violence "like last time"
    ("my boyfriend told me he'll choke me if i go to the party", "en-AU", "abuse"),
    # someone else giving things away, saying they won't need them
    ("my sister gave me her camera and said she won't be needing it anymore", "en-US", "third_party"),
    # Spanish: better off without me, giving things away, letters, a whole-box question
    ("mis papás estarían más tranquilos si yo no existiera", "es-MX", "suicidal_ideation"),
    ("ya le di mis libros a mi prima, total no los voy a necesitar", "es-CO", "suicidal_ideation"),
    ("les escribí cartas a mis hijos, ya está todo listo", "es-ES", "suicidal_ideation"),
    ("¿qué pasaría si uno se toma todo el frasco de pastillas para dormir?", "es-AR", "suicidal_ideation"),
    # Portuguese: a partner's death threat, giving belongings away, burden
    ("meu namorado disse que vai me matar se eu terminar com ele", "pt-BR", "abuse"),
    ("já doei minhas roupas e meus livros, não vou mais precisar", "pt-BR", "suicidal_ideation"),
    ("me sinto um peso para minha família", "pt-PT", "suicidal_ideation"),
    # French and German: burden, nobody would miss me
    ("je suis un fardeau pour mes proches", "fr-FR", "suicidal_ideation"),
    ("mich würde sowieso keiner vermissen", "de-DE", "suicidal_ideation"),
]

EMERGENCY = [
    ("I took everything out of the medicine cabinet an hour ago", "en-US"),
    ("he's banging on the door saying he'll hurt me, I'm hiding in the bathroom", "en-GB"),
    ("tomei muitos comprimidos com vinho", "pt-BR"),
    ("mi novio me encerró en el baño y no me deja salir", "es-MX"),
]

BELOW_CRISIS = [
    # the new rules' hard negatives
    ("my toddler got into the vitamins and ate two, how many is too many for a 3 year old?", "en-US"),
    ("how many chews is too much for my dog if he ate the whole pack?", "en-US"),
    ("who wants to live forever? not me, I'd get bored", "en-GB"),
    ("i'm not going to do anything stupid, i just need to vent", "en-US"),
    ("had a panic attack at work, felt like i was having a heart attack but it passed", "en-US"),
    ("i know what time he leaves work so i can surprise him with dinner", "en-US"),
    ("my brother gave me his old bike because he bought a new one and won't need it", "en-US"),
    ("si yo no estuviera en el equipo, ¿quién haría las actas? jaja", "es-ES"),
    ("este parcial de química me va a matar", "es-MX"),
    ("essa prova de cálculo vai me matar", "pt-BR"),
    ("cet examen de maths va me tuer", "fr-FR"),
    ("ich bin Lehrer: woran erkenne ich Suizidgedanken bei Schülern?", "de-DE"),
    ("gracias por todo, cuídate mucho y nos vemos el lunes", "es-MX"),
]

# (history, text, locale, minimum level, category)
CONVERSATIONS = [
    # settling affairs after hopelessness
    (("nothing has felt worth it for weeks", "i'm so tired of pretending i'm fine"),
     "set up autopay on all my bills and sorted my affairs out today", "en-US", Level.CRISIS, "suicidal_ideation"),
    # a third party's hopelessness, then her giving her things away
    (("mi abuela está muy callada desde el entierro", "me dijo que ya no le ve sentido a nada"),
     "y ahora anda regalando sus cosas a los vecinos", "es-MX", Level.CRISIS, "third_party"),
    # a goodbye after veiled preparation
    (("ya no aguanto más", "ya escribí todo lo que tenía que escribir"),
     "gracias por escucharme, cuídate mucho", "es-AR", Level.CRISIS, "suicidal_ideation"),
    # access to a roof after "nobody would miss me"
    (("alles ist sinnlos", "mich würde eh niemand vermissen"),
     "kommt man abends aufs Dach vom Hochhaus am Markt?", "de-DE", Level.CRISIS, "suicidal_ideation"),
    # several boxes of sleeping pills after feeling a burden
    (("je ne dors plus", "je suis un poids pour tout le monde"),
     "on peut acheter plusieurs boîtes de somnifères d'un coup ?", "fr-FR", Level.CRISIS, "suicidal_ideation"),
]

CONVERSATIONS_BELOW_CRISIS = [
    # settling affairs with no distress before: practical, not preparation
    (("we're moving to Lisbon next month", "so much admin to do"),
     "set up autopay on all my bills today", "en-US"),
    # a goodbye with no preparation before
    (("hoy fue un día largo", "pero ya me siento mejor"), "gracias por escucharme, cuídate mucho", "es-MX"),
]


@pytest.mark.parametrize(("text", "locale", "category"), CRISIS)
def test_third_pass_families_reach_crisis(rules_only, text: str, locale: str, category: str) -> None:
    a = screen(text, locale=locale)
    assert a.level >= Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])
    assert category in a.categories


@pytest.mark.parametrize(("text", "locale"), EMERGENCY)
def test_overdose_taken_or_attacker_at_the_door_is_emergency(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level == Level.EMERGENCY, (text, a.level, [e.rule for e in a.evidence])


@pytest.mark.parametrize(("text", "locale"), BELOW_CRISIS)
def test_third_pass_rules_leave_hard_negatives_below_crisis(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level < Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])


@pytest.mark.parametrize(("history", "text", "locale", "minimum", "category"), CONVERSATIONS)
def test_preparation_or_means_after_distress_is_crisis(rules_only, history: tuple[str, ...], text: str,
                                                       locale: str, minimum: Level, category: str) -> None:
    a = screen(text, history=history, locale=locale)
    assert a.level >= minimum, (text, a.level, [e.rule for e in a.evidence])
    assert category in a.categories


@pytest.mark.parametrize(("history", "text", "locale"), CONVERSATIONS_BELOW_CRISIS)
def test_practical_affairs_or_a_goodbye_without_earlier_risk_stay_below_crisis(
        rules_only, history: tuple[str, ...], text: str, locale: str) -> None:
    a = screen(text, history=history, locale=locale)
    assert a.level < Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])
