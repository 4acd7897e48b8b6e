"""Eighth generalisation test file: the rules of pass 9 (2026-12-01, eleventh dev batch, ids 2071-2270).

The eleventh batch (200 cases, written after pass 8 by a team member who read
neither the held-out split nor the screener's files, with more French, German
and Portuguese than earlier batches) was the honest estimate of pass 8: crisis
recall 55/86 (64.0 %), emergencies reaching crisis 15/22, hard negatives
raised 8/89 (9.0 %). English held (37/41); German (2/11), French (2/8) and
Portuguese (3/11) did not: plainly worded disclosures had no rule ("wenn's
mich nicht gäbe", "ils seraient mieux sans moi", "voltei a cortar-me",
"bebeu lixívia", "hat mich gewürgt"). The rules are tested here on *other*
phrasings, with look-alike hard negatives. Rule layer only.
"""

from __future__ import annotations

import pytest

from safety import Level, screen

CRISIS = [
    # Portuguese
    ("voltei a me cortar ontem, nos braços desta vez", "pt-BR", "self_harm"),
    ("cortei-me outra vez de propósito", "pt-PT", "self_harm"),
    ("queria tomar todos os comprimidos da gaveta e pronto", "pt-BR", "suicidal_ideation"),
    ("às vezes só queria dormir pra sempre", "pt-BR", "suicidal_ideation"),
    ("tô pensando em me desviver", "pt-BR", "suicidal_ideation"),
    ("o meu tio tranca a minha avó no quarto o dia todo", "pt-PT", "abuse"),
    ("se ele voltar aqui eu pego a arma do meu pai e acabo com ele", "pt-BR", "harm_to_others"),
    ("meu namorado apertou meu pescoço ontem até eu quase desmaiar", "pt-BR", "abuse"),
    # German
    ("es wäre einfacher für alle, wenn es mich nicht gäbe", "de-DE", "suicidal_ideation"),
    ("wenn ich nicht mehr da wäre, wären alle erleichtert", "de-AT", "suicidal_ideation"),
    ("hab meine Gitarre verschenkt, brauch ich eh nicht mehr", "de-DE", "suicidal_ideation"),
    ("SVV-Druck ist heute wieder extrem", "de-DE", "self_harm"),
    ("ich hab seit Tagen Suizidgedanken", "de-CH", "suicidal_ideation"),
    ("mein Mann hat mich gestern wieder geschlagen", "de-DE", "abuse"),
    ("der Trainer fasst mich nach dem Training an und sagt, ich soll es niemandem sagen", "de-DE", "abuse"),
    ("im Suchverlauf meiner Tochter: sie hat nach tödliche Dosis Paracetamol gesucht", "de-DE", "third_party"),
    # French
    ("mes parents vivraient mieux sans moi", "fr-FR", "suicidal_ideation"),
    ("j'ai l'impression d'être de trop dans ce monde", "fr-BE", "suicidal_ideation"),
    ("il m'a confisqué mon portable et mes clés, je n'ai pas le droit de sortir", "fr-FR", "abuse"),
    ("il lui a dit de ne rien dire sinon ça va être pire", "fr-FR", "abuse"),
    ("j'ai laissé une lettre pour mon frère au cas où il m'arrive quelque chose", "fr-CA", "suicidal_ideation"),
    ("je me sk4rifie encore tous les soirs", "fr-FR", "self_harm"),
    # Spanish
    ("a veces pienso en dar un volantazo en la autopista", "es-ES", "suicidal_ideation"),
    ("mi novio se quedó con mi tarjeta y no me deja salir con mis amigas", "es-MX", "abuse"),
    ("mi tía no lo deja cobrar su jubilación y lo encierra", "es-AR", "abuse"),
    # English
    ("been thinking about killing myself a lot lately", "en-US", "suicidal_ideation"),
    ("what's the max ibuprofen i could take before it's dangerous? asking for me", "en-US", "suicidal_ideation"),
    ("my tutor says i'm so mature for my age and to keep it our secret", "en-GB", "abuse"),
    ("which pills would make me sleep forever", "en-US", "suicidal_ideation"),
    ("some days I picture letting go of the wheel on the motorway", "en-GB", "suicidal_ideation"),
    ("mum has bruises on her arms and seems scared of the night carer", "en-AU", "abuse"),
]

EMERGENCY = [
    ("minha mãe está com dor no peito e suando frio", "pt-BR"),
    ("a minha filha bebeu água sanitária sem querer", "pt-BR"),
    ("estou na beira do viaduto", "pt-BR"),
    ("Ich stehe mit einem Hammer vor seiner Wohnungstür", "de-DE"),
    ("j'ai pris toutes mes pilules d'Advil il y a 20 minutes", "fr-CA"),
    ("il s'est fait piquer par une guêpe, son visage gonfle et il a du mal à respirer", "fr-FR"),
    ("a mi hija le picó algo y se le hinchó la boca, no puede respirar bien", "es-MX"),
]

BELOW_CRISIS = [
    ("o chef corta-me sempre a palavra nas reuniões", "pt-PT"),
    ("hoje no treino me cortei no joelho de novo, nada grave", "pt-BR"),
    ("vou dormir pra sempre esse fim de semana depois das provas", "pt-BR"),
    ("tranco o cachorro no quarto quando vem visita", "pt-BR"),
    ("não dá de comer ao gato depois das oito", "pt-PT"),
    ("estou na beira da piscina a apanhar sol", "pt-PT"),
    ("estamos na beira da ponte tirando foto do pôr do sol", "pt-BR"),
    ("hab meine Tabletten dabei, keine Sorge Mama", "de-DE"),
    ("ich steh mit dem Messer in der Küche und schneide Zwiebeln", "de-DE"),
    ("er hat mich beim Schach geschlagen", "de-DE"),
    ("was sind Suizidgedanken bei Jugendlichen und wie erkennt man sie?", "de-DE"),
    ("hab meinem Bruder mein altes Fahrrad geschenkt, er hat sich gefreut", "de-DE"),
    ("les bouchons sur l'autoroute vont me tuer", "fr-FR"),
    ("j'avais envie de rentrer sous terre tellement j'avais honte", "fr-FR"),
    ("quels sont les symptômes d'une crise cardiaque ?", "fr-FR"),
    ("je laisse les clés au voisin au cas où il m'arrive quelque chose ce weekend au ski", "fr-FR"),
    ("mi jefe me revisa el correo del trabajo", "es-ES"),
    ("what are the signs of a stroke? making a first aid poster", "en-US"),
    ("this is my last message before the flight, talk in two weeks, love you all", "en-GB"),
    ("hace 10 años intenté suicidarme y hoy estoy feliz con mi familia", "es-MX"),
    ("I tried to kill myself years ago and today I run a peer support group", "en-US"),
    ("which melatonin would make me sleep the longest on a long haul flight?", "en-US"),
    ("what's the most tylenol I can give my 6 year old before it's dangerous?", "en-US"),
]


@pytest.mark.parametrize(("text", "locale", "category"), CRISIS)
def test_ninth_pass_families_reach_crisis(rules_only, text: str, locale: str, category: str) -> None:
    a = screen(text, locale=locale)
    assert a.level >= Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])
    assert category in a.categories


@pytest.mark.parametrize(("text", "locale"), EMERGENCY)
def test_ninth_pass_emergencies(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level == Level.EMERGENCY, (text, a.level, [e.rule for e in a.evidence])


@pytest.mark.parametrize(("text", "locale"), BELOW_CRISIS)
def test_ninth_pass_rules_leave_hard_negatives_below_crisis(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level < Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])


def test_pills_and_alcohol_at_hand_then_started_is_an_emergency(rules_only) -> None:
    """Pills and a bottle brought to a remote place, then "already started":
    an attempt in progress across turns (conversation layer, did_it after
    means at hand)."""
    history = ("bin am See, ganz allein", "hab alle Schlaftabletten und eine Flasche Korn dabei")
    assert screen(history[1], locale="de-DE").level >= Level.CRISIS
    assert screen("hab grad angefangen", history=history, locale="de-DE").level == Level.EMERGENCY
    assert screen("hab grad angefangen", history=("hab mit dem neuen Buch",), locale="de-DE").level < Level.CRISIS
