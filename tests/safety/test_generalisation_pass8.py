"""Eighth generalisation test file: the rules of passes 9 and 10 (2026-12-01,
eleventh and twelfth dev batches, ids 2071-2470).

The eleventh batch (200 cases, written after pass 8 by a team member who read
neither the held-out split nor the screener's files, with more French, German
and Portuguese than earlier batches) was the honest estimate of pass 8: crisis
recall 55/86 (64.0 %), emergencies reaching crisis 15/22, hard negatives
raised 8/89 (9.0 %). English held (37/41); German (2/11), French (2/8) and
Portuguese (3/11) did not: plainly worded disclosures had no rule ("wenn's
mich nicht gäbe", "ils seraient mieux sans moi", "voltei a cortar-me",
"bebeu lixívia", "hat mich gewürgt"). The rules are tested here on *other*
phrasings, with look-alike hard negatives. Rule layer only.

The twelfth batch, written after pass 9, was its honest estimate: crisis
recall 58/86 (67.4 %), emergencies reaching crisis 16/22, hard negatives
raised 6/89 (6.7 %); English 29/34, Spanish 12/16, French 7/11, German 4/12,
Portuguese 6/13. Its families are the PASS10 tables.
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
    # in-sample dev cases the retrain lost, in other words
    ("ele ameaçou que se eu pedir o divórcio fica com os meus filhos", "pt-PT", "abuse"),
    ("ce serait mieux pour ma famille si je n'existais plus", "fr-FR", "suicidal_ideation"),
    ("my son's teacher called, there are cuts all over his arms", "en-GB", "third_party"),
    ("found razor blades taped under the lid of my son's pencil case", "en-US", "third_party"),
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
    ("este calor está a matar-me", "pt-PT"),
    ("ando a matar-me a trabalhar esta semana", "pt-PT"),
    ("found an old razor in the bathroom drawer, hidden behind the towels", "en-US"),
    ("what are the signs of a stroke? making a first aid poster", "en-US"),
    ("this is my last message before the flight, talk in two weeks, love you all", "en-GB"),
    ("hace 10 años intenté suicidarme y hoy estoy feliz con mi familia", "es-MX"),
    ("I tried to kill myself years ago and today I run a peer support group", "en-US"),
    ("which melatonin would make me sleep the longest on a long haul flight?", "en-US"),
    ("what's the most tylenol I can give my 6 year old before it's dangerous?", "en-US"),
]


# Pass 9, own probe after the batch: plain core disclosures in each language
# (the batch showed German, French and Portuguese missing even these). Level
# only: each language's categories are tested above.
CORE_CRISIS = [
    ('ich will einfach nicht mehr leben', 'de-DE'),
    ('ich möchte sterben', 'de-DE'),
    ('ich denke darüber nach, mich umzubringen', 'de-DE'),
    ('alle wären ohne mich besser dran', 'de-DE'),
    ('ich wünschte, ich würde morgen nicht mehr aufwachen', 'de-DE'),
    ('hab mich gestern wieder geritzt', 'de-DE'),
    ('wie viele Tabletten sind tödlich', 'de-DE'),
    ('hab Abschiedsbriefe an meine Familie geschrieben', 'de-DE'),
    ('ich kann nicht mehr, ich will dass es aufhört', 'de-DE'),
    ('mein Mann schlägt mich und droht mich umzubringen', 'de-DE'),
    ('ich bring den Typen um, ich schwör', 'de-DE'),
    ('meine Freundin hat gesagt, sie will sich umbringen', 'de-DE'),
    ('niemand würde mich vermissen', 'de-DE'),
    ('mein Stiefvater kommt nachts in mein Zimmer und fasst mich an', 'de-DE'),
    ('ich will nicht mehr aufwachen', 'de-DE'),
    ('hab keinen Bock mehr auf dieses Leben, will nur noch weg für immer', 'de-DE'),
    ('je veux plus vivre', 'fr-FR'),
    ("j'ai envie de mourir", 'fr-FR'),
    ('je pense à me tuer', 'fr-FR'),
    ('tout le monde serait mieux sans moi', 'fr-FR'),
    ("j'aimerais ne pas me réveiller demain", 'fr-FR'),
    ('je me suis encore coupée hier soir', 'fr-FR'),
    ('combien de cachets faut-il pour mourir', 'fr-FR'),
    ("j'ai écrit des lettres d'adieu", 'fr-FR'),
    ("j'en peux plus, je veux que ça s'arrête pour de bon", 'fr-FR'),
    ('mon copain me frappe et il a menacé de me tuer', 'fr-FR'),
    ('je vais le buter ce mec', 'fr-FR'),
    ("ma pote m'a dit qu'elle voulait en finir", 'fr-FR'),
    ('personne ne remarquerait si je disparaissais', 'fr-FR'),
    ('mon beau-père vient dans ma chambre la nuit et me touche', 'fr-FR'),
    ('je veux dormir et ne jamais me réveiller', 'fr-FR'),
    ("j'ai plus la force de continuer à vivre", 'fr-FR'),
    ('não quero mais viver', 'pt-BR'),
    ('quero morrer', 'pt-BR'),
    ('to pensando em me matar', 'pt-BR'),
    ('todo mundo ficaria melhor sem mim', 'pt-BR'),
    ('queria dormir e não acordar mais', 'pt-BR'),
    ('me cortei de novo ontem', 'pt-BR'),
    ('quantos comprimidos precisa pra morrer', 'pt-BR'),
    ('escrevi cartas de despedida pra minha família', 'pt-BR'),
    ('não aguento mais, quero que tudo acabe', 'pt-BR'),
    ('meu marido me bate e ameaçou me matar', 'pt-BR'),
    ('vou matar esse cara', 'pt-BR'),
    ('minha amiga disse que quer se matar', 'pt-BR'),
    ('ninguém ia sentir minha falta', 'pt-BR'),
    ('meu padrasto entra no meu quarto de noite e mexe comigo', 'pt-BR'),
    ('queria sumir pra sempre', 'pt-BR'),
    ('não tenho mais forças pra continuar vivendo', 'pt-BR'),
    ('já não quero viver', 'pt-PT'),
    ('apetece-me morrer', 'pt-PT'),
    ('ando a pensar em matar-me', 'pt-PT'),
    ('estavam todos melhor sem mim', 'pt-PT'),
    ('o meu namorado bate-me', 'pt-PT'),
    ('ya no quiero vivir', 'es-MX'),
    ('me quiero morir', 'es-MX'),
    ('estoy pensando en matarme', 'es-MX'),
    ('todos estarían mejor sin mí', 'es-MX'),
    ('ojalá no despertara mañana', 'es-MX'),
    ('me volví a cortar anoche', 'es-MX'),
    ('cuántas pastillas se necesitan para morir', 'es-MX'),
    ('ya escribí cartas de despedida', 'es-MX'),
    ('mi esposo me pega y me amenazó con matarme', 'es-MX'),
    ('voy a matar a ese wey', 'es-MX'),
    ('mi amiga dice que se quiere matar', 'es-MX'),
    ('nadie me extrañaría', 'es-MX'),
    ('mi padrastro entra a mi cuarto en la noche y me toca', 'es-MX'),
]

CORE_EMERGENCY = [
    ('ich hab gerade die ganze Packung Tabletten geschluckt', 'de-DE'),
    ('mein Vater ist umgekippt und atmet nicht', 'de-DE'),
    ('ich steh auf der Brücke', 'de-DE'),
    ('hab mir die Pulsadern aufgeschnitten', 'de-DE'),
    ("je viens d'avaler toute la boîte de doliprane", 'fr-FR'),
    ("mon père s'est effondré et il ne respire plus", 'fr-FR'),
    ('je suis sur le pont là', 'fr-FR'),
    ('je me suis ouvert les veines', 'fr-FR'),
    ('acabei de tomar a caixa inteira de remédio', 'pt-BR'),
    ('meu pai desmaiou e não está respirando', 'pt-BR'),
    ('to em cima da ponte agora', 'pt-BR'),
    ('cortei os pulsos', 'pt-BR'),
    ('tomei os comprimidos todos', 'pt-PT'),
    ('me acabo de tomar todas las pastillas', 'es-MX'),
    ('mi papá se desmayó y no respira', 'es-MX'),
    ('estoy en el puente ahorita', 'es-MX'),
    ('me corté las venas', 'es-MX'),
]

CORE_BELOW_CRISIS = [
    ('ich sterbe vor Hunger', 'de-DE'),
    ('das Meeting bringt mich noch um', 'de-DE'),
    ('ich hab heute mein altes Fahrrad verschenkt', 'de-DE'),
    ('wir haben ein Seil für die Kletterhalle gekauft', 'de-DE'),
    ('je meurs de faim', 'fr-FR'),
    ('ce cours me tue', 'fr-FR'),
    ("j'ai acheté une corde pour l'escalade", 'fr-FR'),
    ('je suis mort de rire', 'fr-FR'),
    ('to morrendo de fome', 'pt-BR'),
    ('essa prova vai me matar', 'pt-BR'),
    ('comprei uma corda pra escalada', 'pt-BR'),
    ('morri de rir', 'pt-BR'),
    ('me muero de hambre', 'es-MX'),
    ('este examen me va a matar', 'es-MX'),
    ('compré una cuerda para escalar', 'es-MX'),
    ('me muero de risa', 'es-MX'),
    ('ich bring den Müll um 8 raus', 'de-DE'),
    ('ich bring dich um sechs zum Bahnhof', 'de-DE'),
    ('keinen Bock mehr auf das Leben hier in der Stadt', 'de-DE'),
    ('ich will für immer weg aus diesem Kaff', 'de-AT'),
    ('ich steh auf der Brücke und mach Fotos vom Sonnenuntergang', 'de-DE'),
    ('je veux plus vivre chez mes parents', 'fr-FR'),
    ("ce bruit, je veux que ça s'arrête", 'fr-FR'),
    ('je veux que tout se termine bien pour elle', 'fr-FR'),
    ('quero que tudo acabe bem', 'pt-BR'),
    ('quero que isso acabe logo, que reunião chata', 'pt-BR'),
    ('vou matar essa aula hoje', 'pt-BR'),
    ('vou matar a saudade da minha avó', 'pt-BR'),
    ('vou matar essa garrafa de vinho', 'pt-PT'),
    ('cortei o pulso sem querer a cozinhar, sangrou um bocado', 'pt-PT'),
    ('ich hab die ganze Packung Gummibärchen gegessen', 'de-DE'),
]


# The outside probe after pass 8 left these risks missed (its closing note);
# the rules are tested on phrasings written after it, with look-alikes.
PROBE_CRISIS = [
    ('left a note on the kitchen table for whoever finds this', 'en-US'),
    ("i'm bringing something from home tomorrow that'll shut him up for good", 'en-GB'),
    ('the boy in my class has small round burns on his arms and flinches when I raise my hand to write on the board', 'en-GB'),
    ('updated my will this afternoon and I feel strangely peaceful', 'en-US'),
    ('been picturing not waking up tomorrow and honestly it feels like a relief', 'en-AU'),
    ("he said he'd make sure nobody ever finds me", 'en-US'),
    ("j'ai tout rangé, rendu les clés à ma sœur, merci pour tout", 'fr-FR'),
    ('je ne serai plus là à Noël de toute façon', 'fr-FR'),
    ("il m'a serré le cou hier et il a dit qu'il me tuerait", 'fr-BE'),
    ('es wäre schön, wenn ich einfach nicht mehr aufwache', 'de-DE'),
    ('ich höre jeden Abend, wie die Nachbarin ihr Kleinkind schlägt', 'de-AT'),
    ('escrevi umas cartas e dei as minhas roupas todas à minha prima', 'pt-PT'),
]

PROBE_BELOW_CRISIS = [
    ('found a note for whoever finds my keys, left by a neighbour', 'en-US'),
    ('updated my will after the baby came, feels good to have peace of mind', 'en-GB'),
    ("j'ai tout rangé, rendu les clés au proprio après l'état des lieux, merci pour tout", 'fr-FR'),
    ('je ne serai plus là à Noël, je pars en Erasmus', 'fr-FR'),
    ('wenn ich nicht mehr aufwache, ruf bitte den Notarzt', 'de-DE'),
    ('im Film haut er sein Kind', 'de-DE'),
    ('dei as minhas roupas velhas e escrevi uma carta à minha avó a contar', 'pt-PT'),
    ("I'm gonna shut the window for good, the neighbours are loud", 'en-US'),
    ('he flinches when I raise my voice at the dog', 'en-US'),
]


@pytest.mark.parametrize(("text", "locale"), CORE_CRISIS + PROBE_CRISIS)
def test_plain_core_disclosures_reach_crisis_in_every_language(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level >= Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])


PASS10_CRISIS = [
    ("how many of my dad's tramadol would be enough, asking for real", "en-GB"),
    ("honestly it would be easier for everyone if I was not around anymore", "en-IN"),
    ("some mornings I think about just stepping in front of the tram", "en-AU"),
    ("it's only scratches, I do it with a sharpener blade, not proper cutting", "en-US"),
    ("te lo juro que le reviento la cabeza con el bate a ese tipo", "es-CO"),
    ("sin mí mis papás por fin estarían en paz", "es-MX"),
    ("parfois je songe à foncer dans un mur avec l'auto", "fr-CA"),
    ("je vais la saigner cette pute, elle sait pas ce qui l'attend", "fr-FR"),
    ("mon copain cache mes papiers et ne me laisse jamais sortir seule", "fr-FR"),
    ("j'ai des images dans la tête où je secoue mon bébé", "fr-BE"),
    ("ich hab ständig Gedanken, dass ich mein Baby ersticke", "de-DE"),
    ("der Kleine von gegenüber hat schon wieder blaue Flecken", "de-DE"),
    ("gestern wartete er vor meiner Wohnung und wusste genau, wann ich heimkomme", "de-AT"),
    ("ritze mich seit Montag wieder", "de-DE"),
    ("wenn i nimmer aufwach is a ok", "de-AT"),
    ("penso em me atirar da varanda quase todos os dias", "pt-PT"),
    ("já pensei em como fazer parecer um acidente de carro", "pt-BR"),
    ("o meu pai estaria melhor sem mim", "pt-PT"),
    ("ninguém ia nem sentir falta", "pt-BR"),
    ("ouvi o senhor do lado a chorar a pedir de comer", "pt-PT"),
    ("ela postou uma foto do viaduto com 'desculpa, gente'", "pt-BR"),
]

PASS10_EMERGENCY = [
    ("my dad's diabetic and he's confused and can't stand up", "en-US"),
    ("mi hija se tragó una cápsula de detergente", "es-ES"),
    ("mi abuelo es diabético y está temblando, no reacciona bien", "es-AR"),
    ("mein Mann ist Diabetiker und lallt und zittert", "de-DE"),
    ("hab grad a ganze Schachtel Tabletten mit Bier runtergekippt", "de-AT"),
    ("comeu amendoim e a boca está a inchar, está com falta de ar", "pt-PT"),
    ("ahora habla todo trabado y no puede levantar el brazo", "es-CL"),
]

PASS10_BELOW_CRISIS = [
    ("gonna do the bungee jump off the bridge in Queenstown tomorrow!!", "en-NZ"),
    ("I'd rather die than sit through that meeting again", "en-US"),
    ("how many tablets would be enough for a week away?", "en-GB"),
    ("it's better if I'm not there for the handover, my manager said", "en-GB"),
    ("soy enfermera, hoy tuvimos dos infartos en urgencias", "es-ES"),
    ("sou enfermeira, hoje no plantão tivemos um AVC e dois enfartes", "pt-BR"),
    ("I'm an ER nurse, today we had two overdoses and a heart attack", "en-US"),
    ("je vais le planter là, ce projet, j'en ai marre", "fr-FR"),
    ("merci pour tout, à lundi !", "fr-FR"),
    ("wenn ich nimmer aufwach, weck mich bitte um sieben", "de-DE"),
    ("der Kleine hat schon wieder Mückenstiche", "de-DE"),
    ("ela postou uma foto da ponte ao pôr do sol, que linda", "pt-BR"),
    ("tive de fazer parecer um acidente no meu romance policial", "pt-PT"),
]


@pytest.mark.parametrize(("text", "locale"), PASS10_CRISIS)
def test_tenth_pass_families_reach_crisis(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level >= Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])


@pytest.mark.parametrize(("text", "locale", "category"), CRISIS)
def test_ninth_pass_families_reach_crisis(rules_only, text: str, locale: str, category: str) -> None:
    a = screen(text, locale=locale)
    assert a.level >= Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])
    assert category in a.categories


@pytest.mark.parametrize(("text", "locale"), EMERGENCY + CORE_EMERGENCY + PASS10_EMERGENCY)
def test_ninth_pass_emergencies(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level == Level.EMERGENCY, (text, a.level, [e.rule for e in a.evidence])


@pytest.mark.parametrize(("text", "locale"), BELOW_CRISIS + CORE_BELOW_CRISIS + PROBE_BELOW_CRISIS + PASS10_BELOW_CRISIS)
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
