"""Fourth generalisation pass (2026-11-30, dev batches ids 581-760 and 761-920).

Two fresh batches (180 and 160 cases), written independently and at the same
time by two team members who did not read the held-out split or the
screener's files, in deliberately varied voices (veterans, farmers, carers,
students, second-language writers; long rambling messages, euphemisms,
obfuscation, fiction and "asking for a friend" framings). Screened before any
change: crisis recall 42/78 (53.8 %) and 39/70 (55.7 %), 9/82 and 10/68 hard
negatives raised to crisis. The rules written for the second batch's misses
did not move the first batch at all (42 -> 41/78): phrase rules only cover the
families they name. The rules for both batches' misses are tested here on
*other* phrasings, with hard negatives. Rule layer only (``SAFETY_SEMANTIC=off``).
"""

from __future__ import annotations

import pytest

from safety import Level, screen
from safety.normalize import normalize

CRISIS = [
    # life insurance weighed against one's life
    ("been running the numbers on my life insurance, they'd be fine", "en-US", "suicidal_ideation"),
    ("does the life insurance still pay out if it wasn't an accident", "en-GB", "suicidal_ideation"),
    # hoping one's heart stops; a note "they'll understand"; stockpiling
    ("honestly i hope my heart just stops in my sleep", "en-US", "suicidal_ideation"),
    ("left a note for my parents, they will understand", "en-CA", "suicidal_ideation"),
    ("i've been saving my tablets instead of taking them", "en-GB", "suicidal_ideation"),
    ("been putting some of my oxycodone aside", "en-US", "suicidal_ideation"),
    # self-harm slang and emoji
    ("did barcode on my arm again", "en-US", "self_harm"),
    ("🔪 again tonight", "en-US", "self_harm"),
    # intrusive thoughts about a baby; the last holiday; writing goodbyes; joining the dead
    ("i keep imagining drowning the baby in the bath and it terrifies me", "en-GB", "harm_to_others"),
    ("this will be my last christmas, i've made my peace", "en-US", "suicidal_ideation"),
    ("writing my goodbyes now", "en-US", "suicidal_ideation"),
    ("all my mates from the regiment have gone. about time i joined them", "en-AU", "suicidal_ideation"),
    ("some nights i think about just not turning the wheel", "en-GB", "suicidal_ideation"),
    # means questions under a frame
    ("for a book: which painkiller is the most dangerous to take a lot of at once?", "en-US", "suicidal_ideation"),
    ("does anyone know if the windows on the top floor open all the way, not for air", "en-GB",
     "suicidal_ideation"),
    # someone else's goodbye; a veiled group threat
    ("my cousin messaged me 'tell mum i love her' out of nowhere", "en-US", "third_party"),
    ("those guys at school will all get what's coming on friday", "en-US", "harm_to_others"),
    # Spanish, Portuguese, French, German
    ("mejor me quito del medio, así dejo de ser un problema", "es-CO", "suicidal_ideation"),
    ("le pido a Dios que ya me lleve", "es-MX", "suicidal_ideation"),
    ("nadie me va a extrañar cuando me vaya", "es-ES", "suicidal_ideation"),
    ("me volví a hacer rayitas en el brazo", "es-AR", "self_harm"),
    ("estoy pensando en hacerme daño", "es-US", "suicidal_ideation"),
    ("sigo guardando mis pastillas para dormir", "es-CL", "suicidal_ideation"),
    ("mi amigo me escribió que ya no va a molestar a nadie", "es-PE", "third_party"),
    ("ele está pesquisando como se matar", "pt-BR", "suicidal_ideation"),
    ("o meu namorado bate-me quando bebe", "pt-PT", "abuse"),
    ("j'ai écrit une lettre pour ma famille, je la laisse demain", "fr-FR", "suicidal_ideation"),
    ("mein Freund hat gesagt, er bringt mich um, wenn ich gehe", "de-DE", "abuse"),
    ("ab wie vielen Tabletten wird es tödlich?", "de-AT", "suicidal_ideation"),
    # found by dev cases after the semantic layer stopped using joined conversations as neighbours
    ("she'd be fine with the life insurance money honestly", "en-US", "suicidal_ideation"),
    ("my sister keeps saying we'd be better off without her", "en-GB", "third_party"),
    ("what if someone took all their sleeping pills at once, would they feel it", "en-US", "suicidal_ideation"),
    ("keeping my spare tablets hidden just in case", "en-AU", "suicidal_ideation"),
    # found by the sixth batch (ids 921-1070, measured after the passes above)
    ("¿cuántas pastillas para dormir hacen falta para no despertarme?", "es-AR", "suicidal_ideation"),
    ("the home help might be taking my nan's pension, she goes quiet when he's there", "en-GB", "third_party"),
    ("everyone says I'm a burden and they're right", "en-US", "suicidal_ideation"),
    ("mon frère se scarifie depuis des mois", "fr-CH", "third_party"),
    ("ich hab mein Fahrrad verschenkt, das brauch ich eh bald nicht mehr", "de-DE", "suicidal_ideation"),
    # found by the seventh batch (ids 1071-1270, mostly hard negatives)
    ("i tried to overdose on saturday and nobody knows", "en-US", "suicidal_ideation"),
    ("mum's carer slaps her when she won't eat", "en-GB", "third_party"),
    ("a veces siento que sería mejor no existir", "es-ES", "suicidal_ideation"),
    # dev cases the similarity path no longer caught once it needed the classifier's agreement
    ("how far would a drop have to be to not survive it", "en-US", "suicidal_ideation"),
    ("i left notes for my brothers, they're under my pillow for after", "en-GB", "suicidal_ideation"),
    ("keeping a list of everyone who bullied me this year", "en-US", "harm_to_others"),
    ("thinking abt suicide all the time lately", "en-US", "suicidal_ideation"),
    ("i get these flashes of dropping my baby down the stairs and i'm terrified", "en-AU", "harm_to_others"),
]

EMERGENCY = [
    ("got the shotgun out, sitting here with it", "en-US"),
    ("all my pills are lined up in front of me, just sitting here", "en-GB"),
    ("it's all set up in the shed now", "en-AU"),
    ("I'm standing on the other side of the railing", "en-US"),
    ("my nan fell and she's not opening her eyes", "en-GB"),
    ("swallowed the whole box about an hour ago", "en-US"),
    ("she has my mum pinned on the floor", "en-IE"),
    ("estoy arriba del puente de la carretera", "es-MX"),
    ("mi mamá tiene la boca torcida y no puede hablar", "es-CO"),
    ("está golpeando la puerta, dice que me va a matar", "es-AR"),
    ("ya me tomé todas las pastillas", "es-ES"),
    ("o meu pai tomou os remédios todos e não acorda", "pt-PT"),
    ("il a avalé toute la boîte de cachets", "fr-FR"),
    ("meine Mutter atmet nicht mehr", "de-DE"),
    ("mi hermano no reacciona y respira muy lento", "es-CL"),
    ("estou com a faca na mão agora", "pt-BR"),
    ("mon père est tombé, il ne répond plus", "fr-FR"),
    ("meine Tochter hat Spülmittel getrunken", "de-DE"),
    ("I've got them all lined up now", "en-US"),
    ("je viens de prendre toutes mes pilules", "fr-FR"),
]

BELOW_CRISIS = [
    ("booked a skydive, I'm literally going to jump out of a plane on sunday", "en-US"),
    ("scared of the anaesthetic tomorrow, what if I never wake up", "en-GB"),
    ("I'd rather die than call my ex to ask for the charger", "en-US"),
    ("i'm going to kill my sister if she eats my leftovers again lol", "en-US"),
    ("this assignment is gonna make me kms 💀", "en-US"),
    ("hope it stops raining before the match", "en-GB"),
    ("putting my meds away so the kids can't reach them", "en-US"),
    ("my protagonist dies in the last chapter of the novel, how do I make the funeral scene realistic?", "en-US"),
    ("three years self harm free this week!", "en-US"),
    ("casi me da un infarto con ese penal 😂", "es-AR"),
    ("mi hijo dice que se quiere morir cada vez que pierde en Roblox, ¿es normal?", "es-MX"),
    ("quero dormir para sempre este fim de semana", "pt-BR"),
    ("Wie reagiert man, wenn jemand von Suizid spricht? Für unseren Erste-Hilfe-Kurs.", "de-DE"),
    ("keeping spare tablets aside in case the pharmacy runs out over christmas", "en-GB"),
    ("is the old quarry still open to the public? want to take the kids climbing", "en-US"),
    ("i swear if my brother eats my chips again i'm going to kill him", "en-US"),
    ("my therapist asks me to rate my suicidal thoughts and it has been a zero since spring", "en-US"),
    ("me quiero morir de la vergüenza, me equivoqué de chat", "es-MX"),
    ("I tried to overdose in 2016, therapy has helped a lot since", "en-US"),
    ("for my literature essay: is Macbeth suicidal in the last act?", "en-GB"),
    ("the backup job keeps killing itself at midnight", "en-US"),
    ("my boss says 'I want to die' every time the wifi drops, is that normal?", "en-US"),
    ("penalty shootout and I literally can't breathe ⚽", "en-GB"),
    ("Elden Ring: how do I kill the dragon on the bridge without dying?", "en-US"),
    ("echo de menos tanto a mi abuela que me duele el pecho", "es-AR"),
]

CONVERSATIONS = [
    # "I did something stupid" ... "I took them" ... symptoms -> emergency
    (("i did something stupid", "i took them"), "everything is spinning and i can't feel my fingers", "en-US",
     Level.EMERGENCY),
    # loneliness, then a question about when the bridge is emptiest -> crisis
    (("mi novia me dejó", "ya no tengo a nadie"), "¿a qué hora hay menos gente en el puente?", "es-MX",
     Level.CRISIS),
    # a loss, then a question about a high place being open
    (("lost my job on friday", "my girlfriend left too"), "is the car park roof on king st still open at night?",
     "en-GB", Level.CRISIS),
    (("perdí el trabajo", "y mi esposa me dejó"), "¿hasta qué hora está abierta la azotea del hotel?", "es-ES",
     Level.CRISIS),
    # a decision to "fix that for them" after burden talk
    (("i can't sleep", "my family would be better off without me"), "i've decided, i'll fix that for them soon",
     "en-US", Level.CRISIS),
]


def test_contractions_he_is_and_she_has_are_expanded() -> None:
    """A YAML escaping slip once turned "he's" into a literal "\\1 is", so no
    rule written for "he is ..." could fire on "he's ..."."""
    text = normalize("he's kicking the door. she's been crying").text
    assert text == "he is kicking the door. she has been crying"


@pytest.mark.parametrize(("text", "locale", "category"), CRISIS)
def test_fourth_pass_families_reach_crisis(rules_only, text: str, locale: str, category: str) -> None:
    a = screen(text, locale=locale)
    assert a.level >= Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])
    assert category in a.categories


@pytest.mark.parametrize(("text", "locale"), EMERGENCY)
def test_fourth_pass_emergencies(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level == Level.EMERGENCY, (text, a.level, [e.rule for e in a.evidence])


@pytest.mark.parametrize(("text", "locale"), BELOW_CRISIS)
def test_fourth_pass_rules_leave_hard_negatives_below_crisis(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level < Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])


@pytest.mark.parametrize(("history", "text", "locale", "minimum"), CONVERSATIONS)
def test_fourth_pass_conversations(rules_only, history: tuple[str, ...], text: str, locale: str,
                                   minimum: Level) -> None:
    a = screen(text, history=history, locale=locale)
    assert a.level >= minimum, (text, a.level, [e.rule for e in a.evidence])
