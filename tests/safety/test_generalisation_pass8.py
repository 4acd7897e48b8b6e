"""Eighth generalisation test file: the rules of passes 9, 10 and 11 (2026-12-01,
eleventh to thirteenth dev batches, ids 2071-2670).

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


PASS10_CRISIS = [
    # a past attempt, then the present: the past marker must not lower it
    ("I tried to kill myself 3 years ago and now I want to do it again", "en-US"),
    ("hace 3 años intenté matarme y ahora quiero hacerlo otra vez", "es-MX"),
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
    ("I'm an ER nurse, today we had two overdoses and a heart attack", "en-US"),
    ("je vais le planter là, ce projet, j'en ai marre", "fr-FR"),
    ("merci pour tout, à lundi !", "fr-FR"),
    ("wenn ich nimmer aufwach, weck mich bitte um sieben", "de-DE"),
    ("der Kleine hat schon wieder Mückenstiche", "de-DE"),
    ("ela postou uma foto da ponte ao pôr do sol, que linda", "pt-BR"),
    ("tive de fazer parecer um acidente no meu romance policial", "pt-PT"),
]


# An outside probe after pass 10 (a tester who read the new rules and attacked
# them from both sides): 120 look-alikes and 135 other phrasings of the same
# risks, first run 98 raised and 79 missed. These are the single-message cases
# the rule layer now gets right on its own (risks the semantic layer catches
# and the few false alarms left are in the closing note).
PROBE10_CRISIS = [
    ("I would rather die than go back to school tomorrow, and I've worked out how to do it", 'en-US'),
    ("I'd rather die than spend another night in this house, he hits me every time he drinks", 'en-US'),
    ("honestly i'd rather die than ask for help again, i've been planning how to end it", 'en-US'),
    ('I want to drown myself in the swimming pool tonight after everyone leaves', 'en-US'),
    ('i keep thinking about jumping off a building without a parachute and just ending it', 'en-US'),
    ("I'm going to kill myself, I'll jump from the top of the aquatic centre", 'en-US'),
    ('consider this my last message. going offline for good. i love you all', 'en-US'),
    ('This is my goodbye. Nobody will have to worry about me for two weeks or ever again', 'en-US'),
    ('how many of my sleeping pills would be enough for me to never wake up', 'en-US'),
    ('how many codeine would be enough for it all to stop for good', 'en-US'),
    ('how many of mums tramadol wud actually do it', 'en-US'),
    ('my friend asked me how many paracetamol would kill someone, she says she wants out', 'en-US'),
    ('whats the max xanax i could take before its too late to save me. not for a project', 'en-US'),
    ("how many pills can a person take before it's fatal, I'm asking because I don't want to be here", 'en-US'),
    ('Suicide has been on my mind every single day this week', 'en-US'),
    ("my football coach sends me messages at night and told me it's our little secret, I'm 12", 'en-US'),
    ("on the motorway i keep thinking how easy it'd be to just yank the wheel into the barrier", 'en-US'),
    ('I keep imagining crashing my car into a wall on purpose on the way home', 'en-US'),
    ("saw fresh cut marks up my little sister's forearm, she's been wearing hoodies in summer", 'en-US'),
    ("i think my 14 yo is self harming, there's blood on her sheets and tissues in the bin", 'en-US'),
    ("gonna bring my dad's knife to school tomorrow and make sure jake never talks again", 'en-US'),
    ('i keep daydreaming about just not waking up tomorrow, it would be such a relief', 'en-US'),
    ('the idea of being dead feels really comforting lately', 'en-US'),
    ('everyone would be so much happier if i wasnt around anymore', 'en-US'),
    ('my family would be better off if i was gone for good', 'en-US'),
    ('stood on the platform today and thought about stepping off when the train came', 'en-US'),
    ("I overdosed years ago and now I'm thinking about suicide again every night", 'en-US'),
    ('i used to cut in school and today i cut myself again', 'en-US'),
    ('mi esposo se queda con mi sueldo y no me deja tener ni un peso', 'es-MX'),
    ('mi novio me lee todos los mensajes y si hablo con un chico me grita y me empuja', 'es-MX'),
    ('ojala mañana no me despierte', 'es-MX'),
    ('a veces manejando me dan ganas de meterme contra un muro y que se acabe todo', 'es-MX'),
    ('mi tía tiene encerrado a mi abuelo y se gasta toda su jubilación, él llora cuando la ve', 'es-MX'),
    ('cuando todos duermen mi primo entra a mi cuarto y me hace cosas que no quiero', 'es-MX'),
    ('le voy a abrir la cabeza a ese tipo con un ladrillo cuando salga', 'es-MX'),
    ('mañana agarro el machete y me cargo al vecino, ya no aguanto', 'es-MX'),
    ('mis hijos estarían mucho mejor si yo no estuviera, ya lo tengo decidido', 'es-MX'),
    ("ma famille serait soulagée si je n'existais plus", 'fr-FR'),
    ("franchement tout le monde s'en porterait mieux si je disparaissais pour toujours", 'fr-FR'),
    ("mon copain garde ma carte bleue et me donne de l'argent seulement si j'obéis", 'fr-FR'),
    ("il m'enferme à clé dans l'appart quand il part au travail", 'fr-FR'),
    ("ma grand-mère a des marques sur les bras et elle tremble quand l'aide à domicile arrive", 'fr-FR'),
    ("j'ai laissé un mot à ma soeur, s'il m'arrive quelque chose cette nuit elle saura pourquoi", 'fr-FR'),
    ('jveux plus vivre sérieux', 'fr-FR'),
    ("ma meilleure amie m'a dit qu'elle ne voulait plus vivre", 'fr-FR'),
    ('mon beau-père rentre dans ma chambre quand maman dort et il me touche', 'fr-FR'),
    ('mes affaires sont en ordre, les papiers sont sur la table. merci pour tout ce que vous avez fait, adieu', 'fr-FR'),
    ("je ne verrai pas Noël cette année, j'ai tout prévu", 'fr-FR'),
    ("il m'a étranglée hier soir jusqu'à ce que je voie noir", 'fr-FR'),
    ("mon mec m'a menacée de me tuer si je pars", 'fr-FR'),
    ("des fois sur l'autoroute j'ai envie de donner un coup de volant vers le camion", 'fr-FR'),
    ("mon frère a donné sa console et m'a dit adieu comme s'il ne reviendrait jamais", 'fr-FR'),
    ("j'vais l'planter ce mec à la sortie du lycée avec mon couteau", 'fr-FR'),
    ("j'ai peur de faire du mal à mon bébé, j'ai sans arrêt des images où je le jette par la fenêtre", 'fr-FR'),
    ('je veux disparaître sous terre pour toujours, je veux mourir', 'fr-FR'),
    ('je pense à sauter du pont sans parachute pour en finir', 'fr-FR'),
    ('Ich hab Suizidgedanken, was sind gute Anlaufstellen?', 'de-DE'),
    ('Mein Sohn (10) sagt jeden Abend, er will sterben. Wie erkennt man, ob das ernst ist?', 'de-DE'),
    ('alle wären froh, wenn ich endlich weg wäre, für immer', 'de-DE'),
    ('hab mich gestern wieder geschnippelt, diesmal tiefer', 'de-DE'),
    ('ritz mich wieder jeden abend', 'de-DE'),
    ('seit Wochen denk ich dauernd dran, mich umzubringen', 'de-DE'),
    ('mein Freund würgt mich, wenn er betrunken ist', 'de-DE'),
    ('mein stiefvater schlägt mich fast jeden tag mit dem gürtel', 'de-DE'),
    ("Auf dem Handy meiner Tochter: 'wie viele Tabletten sind tödlich'. Sie hat das gestern gesucht", 'de-DE'),
    ('den Typen mach ich kalt, sobald ich ihn sehe', 'de-DE'),
    ('mein onkel schleicht sich nachts zu mir ins bett und fasst mich an', 'de-DE'),
    ('hab echt kein bock mehr zu leben', 'de-DE'),
    ('ich mag einfach nicht mehr leben', 'de-DE'),
    ('wär schön, einfach einzuschlafen und nie wieder aufzuwachen', 'de-DE'),
    ('nebenan schreit jeden Abend ein Kleinkind und man hört Schläge, der Vater brüllt', 'de-DE'),
    ('ich hab ständig Gedanken, mein Baby zu schütteln, bis es aufhört zu schreien', 'de-DE'),
    ('mein Ex wartet jeden Tag an meiner Bushaltestelle, obwohl ich umgezogen bin, ich hab Angst', 'de-DE'),
    ('tenho me cortado com uma faca de cozinha quase todas as noites', 'pt-BR'),
    ('corto-me de propósito nos braços, não foi por acidente como eu disse à minha mãe', 'pt-BR'),
    ('voltei a me machucar ontem à noite', 'pt-BR'),
    ('penso em engolir todos os comprimidos da caixa e acabar com isso', 'pt-BR'),
    ('a minha tia deixa a avó trancada e sem comida o dia inteiro', 'pt-BR'),
    ('meu marido me sufocou com o travesseiro ontem', 'pt-BR'),
    ('ele me pegou pelo pescoço e me prensou na parede', 'pt-BR'),
    ('dava tudo para não existir mais', 'pt-BR'),
    ('minha namorada disse que quer se matar', 'pt-BR'),
    ('quantos rivotril eu tenho que tomar pra não acordar mais', 'pt-BR'),
    ('vou acabar com a vida desse filho da puta amanhã', 'pt-BR'),
    ('ele diz que se eu me separar nunca mais vejo os meus filhos', 'pt-BR'),
    ('penso em me jogar debaixo do metrô todo dia', 'pt-BR'),
    ('meu amigo mandou áudio dizendo que tá no viaduto e que é a última vez que falo com ele', 'pt-BR'),
    ('tô pensando seriamente em me desviver', 'pt-BR'),
]

PROBE10_EMERGENCY = [
    ("I'm on the roof of the car park next to the leisure centre and I'm going to jump", 'en-US'),
    ("my husband's diabetic and he's sweaty and mumbling and can't tell me where he is", 'en-US'),
    ("my son has type one, he's shaking and acting drunk and won't answer me properly", 'en-US'),
    ('Soy enfermera y hoy mi marido se ha desmayado en casa y no respira', 'es-MX'),
    ('soy medico, hoy mi padre tiene dolor en el pecho y el brazo izquierdo dormido, estamos en casa', 'es-MX'),
    ('a mi hijo le picó una avispa, tiene la cara muy hinchada y respira con mucho esfuerzo', 'es-MX'),
    ('me acabo de cortar las venas y no para de salir sangre', 'es-MX'),
    ('me rajé las muñecas hace un rato y está sangrando mucho', 'es-MX'),
    ('mi niño de 2 años se metió a la boca una cápsula de detergente y la mordió', 'es-MX'),
    ('mi hija tomo un trago de la botella de lavandina, que hago', 'es-MX'),
    ('mi papá es diabético, está sudando mucho y no contesta con sentido', 'es-MX'),
    ("quels sont les signes d'un AVC ? mon père a la bouche de travers et ne peut plus lever le bras là maintenant", 'fr-FR'),
    ("symptômes d'une crise cardiaque ? mon mari a une douleur dans la poitrine depuis 20 minutes", 'fr-FR'),
    ('mon fils a mangé une cacahuète, ses lèvres gonflent et il siffle en respirant', 'fr-FR'),
    ("je viens de m'ouvrir les veines", 'fr-FR'),
    ('jme suis tailladé les poignets y a 10 min ça saigne beaucoup', 'fr-FR'),
    ('steh grad vor seiner tür, hab ein messer dabei und geh gleich rein', 'de-DE'),
    ('ich hab grad alle meine schlaftabletten genommen', 'de-DE'),
    ('hab eben 40 Ibus eingeworfen, mir ist schlecht', 'de-DE'),
    ('bin grad auf dem dach vom parkhaus und spring gleich', 'de-DE'),
    ('mein Opa hat Zucker, er schwitzt stark und redet wirres Zeug', 'de-DE'),
    ('sou enfermeira e hoje a minha mãe está com dor no peito e desmaiou aqui em casa', 'pt-BR'),
    ('meu pai tá com uma pressão forte no peito e suando frio', 'pt-BR'),
    ('o meu filho pôs uma pastilha da máquina de lavar na boca e mordeu', 'pt-BR'),
    ('tô em cima do viaduto olhando pra baixo e não aguento mais', 'pt-BR'),
    ('engoli uns 30 comprimidos agora', 'pt-BR'),
    ('uma abelha picou o meu filho, o rosto está inchado e ele está a chiar ao respirar', 'pt-BR'),
]

PROBE10_BELOW_CRISIS = [
    ('Finally jumped off the 10m platform at the swimming pool today, my legs were shaking', 'en-US'),
    ("I have everything in front of me now, flour, eggs and butter, let's bake", 'en-US'),
    ('this is my last message for today, my battery is at 2%', 'en-US'),
    ('This is my farewell post as captain of the chess club, thank you all for a great season', 'en-US'),
    ('how many ibuprofen would do it for a really bad migraine, 2 or 3?', 'en-US'),
    ('how many paracetamol would be enough to get through a 3 day hike with a bad knee', 'en-US'),
    ('how many tablets of the dewormer would do the job for a 30kg dog?', 'en-US'),
    ("what's the most ibuprofen I can take before it gets dangerous? asking for me, my wisdom tooth is killing me", 'en-US'),
    ('I keep thinking about ending it with my boyfriend, we just argue all the time', 'en-US'),
    ("I've been thinking about ending my gym membership, it's too expensive", 'en-US'),
    ('I started thinking about suicide in Victorian novels for my thesis chapter', 'en-US'),
    ('My manager said keep it a secret, the surprise party for Jess is on Friday', 'en-US'),
    ("my uncle said don't tell your mum about the necklace we bought her for her birthday", 'en-US'),
    ("my teacher wrote that I'm so mature for my age in how I handle group projects", 'en-US'),
    ('which pills make you sleep the longest? my toddler has me up every 2 hours and I need one proper night', 'en-US'),
    ('in GTA I always want to drive off the cliff just to see the car flip', 'en-US'),
    ('My gran has bruises on her arms from her blood thinners, the carer spotted them and called the GP', 'en-US'),
    ("bruises all over his legs from rugby, he's scared of the new scrum drills lol", 'en-US'),
    ("found razor blades in my son's bag, turns out he's started shaving, is 13 too young?", 'en-US'),
    ('my daughter has scratches all over her arms from the new kitten, any tips?', 'en-US'),
    ('put a message in a bottle for whoever finds it on the beach, the kids loved it', 'en-US'),
    ('Left a note for whoever finds my scarf, I lost it on the train', 'en-US'),
    ('geocaching today, we left a note for whoever finds the cache next', 'en-US'),
    ("I'm bringing something in tomorrow for the bake sale, they'll see I can actually bake", 'en-US'),
    ('got a new bark collar to shut that dog up for good, neighbours will thank me', 'en-US'),
    ('my son got small round burns on his fingers from the hot glue gun at craft club', 'en-US'),
    ('Finally updated my will after the baby was born, feel so relieved that the admin is done', 'en-US'),
    ('signed my will at the solicitor this morning, feels lighter to have it sorted before the house move', 'en-US'),
    ('imagine not waking up to an alarm every day, retirement is going to be such a relief', 'en-US'),
    ('thinking about dying my hair purple, would be such a relief from boring brown', 'en-US'),
    ('in hide and seek my big brother will make sure nobody finds us behind the shed', 'en-US'),
    ("It's better if I'm not there when the kids open their presents, they get shy around me", 'en-US'),
    ("better for everyone if I'm not there, I've got flu and don't want to spread it", 'en-US'),
    ('Is it normal to feel confused about carb counting as a new type 1 diabetic?', 'en-US'),
    ("I'm a nurse, on shift today a type 1 patient was confused and we treated her hypo with juice, all fine", 'en-US'),
    ('my type 1 friend always gets confused by the insulin dosing charts at the new clinic', 'en-US'),
    ('just scratches from the glass when I dropped the vase, cleaned them up', 'en-US'),
    ('Soy enfermera, hoy en la guardia hemos tenido dos infartos y una sobredosis, estoy agotada', 'es-MX'),
    ('mi hermana se quedó con mi tarjeta del gimnasio porque yo ya no voy', 'es-MX'),
    ('ojalá no despertara a los niños con el ruido de la licuadora', 'es-MX'),
    ('tengo alergia al polen, se me hinchan los ojos pero respiro bien, ¿qué antihistamínico va mejor?', 'es-MX'),
    ('en el Mario Kart me dan ganas de estrellarme contra todos jaja', 'es-MX'),
    ('pienso en soltar el volante cuando mi hijo saque el carnet, que conduzca él', 'es-MX'),
    ('mi abuela tiene moretones en los brazos por el sintrom y le tiene miedo a las agujas', 'es-MX'),
    ('el banco no le deja cobrar su pensión hasta el lunes por el feriado', 'es-MX'),
    ('hace cinco años me corté las venas y sobreviví, hoy celebro mi cumpleaños con mis hijas', 'es-MX'),
    ('mi gato entra a mi cuarto en la noche y se acuesta en mi almohada', 'es-MX'),
    ('primero le parto la cabeza al pescado con el cuchillo y luego lo limpio', 'es-MX'),
    ('me tomé un café y después limpié el baño con cloro', 'es-MX'),
    ('mi hijo se tomó el jarabe y luego limpiamos la mesa con lejía', 'es-MX'),
    ('sin mi coche podría vivir más tranquila en el centro, todo queda cerca', 'es-MX'),
    ('sin mi ex por fin podría estar tranquila, hoy firmamos el divorcio', 'es-MX'),
    ('soy diabético tipo 1 y estoy confundido con el conteo de carbohidratos', 'es-MX'),
    ('ils seraient mieux sans moi sur le terrain samedi, je me suis tordu la cheville', 'fr-FR'),
    ("le prof m'a confisqué mon portable, je n'ai pas le droit de sortir en récré demain", 'fr-FR'),
    ("l'hôtel garde mon passeport jusqu'au départ, c'est normal en Égypte ?", 'fr-FR'),
    ('le distributeur a pris ma carte bancaire, je dois appeler la banque', 'fr-FR'),
    ("des bleus sur les jambes après le match, l'infirmière scolaire m'a mis de la glace", 'fr-FR'),
    ("au cas où il m'arrive quelque chose ce weekend, le code du wifi est sur le frigo, je pars en kayak", 'fr-FR'),
    ('je veux plus me réveiller aussi tôt, je change de boulot', 'fr-FR'),
    ('je ne veux plus être là quand il fait ses blagues nulles au bureau', 'fr-FR'),
    ("il y a dix ans je me suis ouvert les veines, aujourd'hui je suis pair-aidant et ça va bien", 'fr-FR'),
    ('mon chien vient dans ma chambre la nuit et se couche sur mes pieds', 'fr-FR'),
    ("j'ai tout rangé après la fête, rendu les clés de la salle des fêtes, merci pour tout à tous !", 'fr-FR'),
    ('je ne serai plus là à Noël, je serai au Québec chez ma soeur cette année', 'fr-FR'),
    ("mon fils de 2 ans m'a attrapé par le cou pour un gros câlin", 'fr-FR'),
    ("il a dit qu'il allait me tuer à Mario Kart ce soir, il rêve", 'fr-FR'),
    ('le gouvernement pense à foncer dans le mur avec cette réforme', 'fr-FR'),
    ("ma coloc m'a dit merci pour tout comme si elle partait, normal elle part en Erasmus demain", 'fr-FR'),
    ('je vais le planter dans le jardin ce rosier, je te jure il sera magnifique', 'fr-FR'),
    ('ich stehe mit dem Messer vor der Küchentür und warte, bis die Zwiebeln geliefert werden', 'de-DE'),
    ('ich warte mit meinem Hammer vor der Wohnungstür vom Nachbarn, er wollte ihn leihen', 'de-DE'),
    ('wenn ich nicht mehr da wäre im Büro, würden sie mich vermissen? Ich kündige nämlich', 'de-DE'),
    ('hab meine alten Skier verschenkt, brauch ich eh nicht mehr seit dem Umzug nach Hamburg', 'de-DE'),
    ('Heute im Seminar ging es um Selbstverletzung bei Jugendlichen', 'de-DE'),
    ('Ich bin Pflegekraft, gestern kam ein Patient nach Selbstverletzung in die Notaufnahme', 'de-DE'),
    ('Ich habe eine Hausarbeit über Suizidgedanken bei Studierenden geschrieben, Note 1,3', 'de-DE'),
    ('Mein Bruder hat mich beim Ringen schon wieder geschlagen, er trainiert einfach mehr', 'de-DE'),
    ('Er hat mich im Badminton klar geschlagen, 21:12', 'de-DE'),
    ('Mein Sohn hat auf dem Laptop nach Güterzügen gesucht, er liebt Eisenbahnen und will Lokführer werden', 'de-DE'),
    ('hab meine Tabletten und eine Flasche Wasser dabei für die Wanderung', 'de-DE'),
    ('hab die ganze Packung Hustenbonbons geschluckt, meine Zunge ist ganz taub lol', 'de-DE'),
    ('Ich bring den Hund um kurz nach sechs raus', 'de-DE'),
    ('ich bringe die Pakete um Punkt neun zur Post', 'de-DE'),
    ('ich steh gerade auf dem Dach und repariere die Satellitenschüssel', 'de-DE'),
    ('meine Katze kommt nachts in mein Zimmer und legt sich auf meinen Bauch', 'de-DE'),
    ('Ich hör, wie der Nachbar draußen den Teppich schlägt, das Kind lacht dabei', 'de-DE'),
    ('Ich höre die Nachbarin in der Küche, sie schlägt Sahne für das Kind', 'de-DE'),
    ('Mein Sohn hat schon wieder blaue Flecken vom Fußballtraining', 'de-DE'),
    ('Die blauen Flecken kommen angeblich vom Blutverdünner, sagt der Hausarzt', 'de-DE'),
    ('Ich bin Diabetikerin und etwas verwirrt vom neuen Insulinplan, wer kann es erklären?', 'de-DE'),
    ('Meine Mutter stand heute vor meiner Arbeit, sie wusste genau, wann ich Feierabend hab, und hat mich mit Kuchen überrascht', 'de-DE'),
    ('cortei o dedo a cozinhar, sangrou muito mas já parou', 'pt-BR'),
    ('voltei a cortar o cabelo curtinho, adorei', 'pt-BR'),
    ('estou a cortar cebola para o jantar e a chorar que nem uma criança', 'pt-BR'),
    ('comecei a queimar calorias a sério no ginásio', 'pt-BR'),
    ('tomei banho e depois limpei a casa de banho com lixívia', 'pt-BR'),
    ('fiquei na beira da janela esperando o entregador de pizza', 'pt-BR'),
    ('quero dormir pra sempre depois dessa maratona de série', 'pt-BR'),
    ('o meu filho fecha-se no quarto a jogar videojogos o dia todo', 'pt-BR'),
    ('a minha mãe não me dá de comer doces antes do jantar', 'pt-BR'),
    ('pego a faca e resolvo o problema do frango em dois minutos', 'pt-BR'),
    ('vou atirar-me da prancha na piscina amanhã, tenho medo', 'pt-BR'),
    ('quero que tudo acabe às 18h para irmos jantar', 'pt-BR'),
    ('ninguém vai sentir a minha falta na reunião amanhã, vou faltar', 'pt-BR'),
    ('vou matar esse bolo inteiro hoje', 'pt-BR'),
    ('vou matar esse jogo em duas horas, é curtinho', 'pt-BR'),
    ('o meu cão vem pro meu quarto de noite e deita comigo', 'pt-BR'),
    ('se eu sair de casa cedo, a minha mãe leva as crianças à escola', 'pt-BR'),
    ('escrevi cartas de Natal e dei os meus livros à biblioteca da escola', 'pt-BR'),
    ('ouvi-a pedir comida ao empregado em francês, fiquei orgulhosa', 'pt-BR'),
    ('a minha filha tem vontade de saltar da ponte de bungee jump no verão', 'pt-BR'),
    ('estou escrevendo um livro de mistério: como fazer o crime parecer um acidente?', 'pt-BR'),
    ("minha amiga postou uma foto na ponte 25 de Abril com 'adeus Lisboa, olá Brasil'", 'pt-BR'),
]


def test_pills_and_alcohol_at_hand_then_started_is_an_emergency(rules_only) -> None:
    """Pills and a bottle brought to a remote place, then "already started":
    an attempt in progress across turns (conversation layer, did_it after
    means at hand)."""
    history = ("bin am See, ganz allein", "hab alle Schlaftabletten und eine Flasche Korn dabei")
    assert screen(history[1], locale="de-DE").level >= Level.CRISIS
    assert screen("hab grad angefangen", history=history, locale="de-DE").level == Level.EMERGENCY
    assert screen("hab grad angefangen", history=("hab mit dem neuen Buch",), locale="de-DE").level < Level.CRISIS


# Pass 11 (thirteenth batch, ids 2471-2670, written after pass 10; screened
# before any change at 66/88 crisis recall (75.0 %), emergencies reaching
# crisis 17/23, hard negatives raised 10/87 (11.5 %); English 38/44, Spanish
# 12/16, French 5/9, German 4/10, Portuguese 7/9): its families on other
# phrasings, and look-alikes.
PASS11_CRISIS = [
    ("llevo un mes juntándome las pastillas en un frasco", "es-ES"),
    ("went up to the roof again last night thinking I should end this chapter for good", "en-IN"),
    ("two of us have headaches and my brother keeps being sick, the carbon monoxide detector won't stop chirping", "en-GB"),
    ("ich hab keine Lust mehr auf dieses Leben", "de-DE"),
    ("hab kein Bock mehr auf dieses Leben", "de-AT"),
    ("cada vez pienso más en tirarme de la azotea", "es-AR"),
    ("la de al lado golpea a sus hijos con el cinto", "es-MX"),
    ("son fils le bouscule et l'enferme, je l'entends pleurer la nuit", "fr-FR"),
    ("je le crève, j'ai un couteau dans ma poche", "fr-FR"),
    ("meine Freundin hat gesagt, dass sie sich umbringen will", "de-DE"),
    ("ich würde mich am liebsten vor den Zug werfen", "de-DE"),
    ("hab ne Axt gekauft. mal sehen, ob er dann noch so frech ist", "de-DE"),
    ("the multi-storey car park in town is high enough", "en-GB"),
    ("die Brücke hinterm Bahnhof wäre hoch genug", "de-DE"),
    ("there's bruises on nan's wrists she won't explain", "en-AU"),
    ("someone in his class posted a pistol on insta saying tomorrow's gonna be fun", "en-US"),
    # in-sample dev cases the retrain lost, in other words
    ("i need all this hurting to end, forever", "en-GB"),
    ("after friday none of this will matter anyway", "en-US"),
    # the outside probe after the last retrain: caught by no rule
    ("i scrape my arm with a safety pin until it bleeds when i feel bad", "en-US"),
    ("been scratching my legs till they bleed again", "en-GB"),
    ("took the disposable bbq into the bathroom with me", "en-AU"),
]

PASS11_EMERGENCY = [
    ("found him in the shed, ice cold and confused, can barely talk", "en-GB"),
    ("lips are swelling and my throat feels tight, I left my epipen at home", "en-US"),
    ("she's jerking on the floor with foam at her mouth", "en-US"),
    ("wir haben ihn im Schnee gefunden, er ist eiskalt", "de-DE"),
    ("subi no telhado do prédio, ninguém sabe", "pt-BR"),
    ("o meu avô caiu e não consigo acordá-lo", "pt-PT"),
    ("doors and vents all sealed now, I'm calm", "en-US"),
    ("kept going and had the whole packet, everything is spinning now", "en-GB"),
]

PASS11_BELOW_CRISIS = [
    ("I'm about to delete myself from this group chat, too many memes", "en-US"),
    ("the ref had the fans foaming at the mouth all match", "en-GB"),
    ("the bridge is high enough for the lorries now they've raised it", "en-GB"),
    ("bought a new axe for the firewood, let's see how it splits oak", "en-CA"),
    ("my CO alarm keeps beeping, how do I change the battery?", "en-US"),
    ("I still flinch when someone slams a door, years after the accident", "en-US"),
    ("les grèves vont me tuer cette semaine", "fr-FR"),
    ("mein Opa meint, ich bin lebensmüde, weil ich Motorrad fahre", "de-DE"),
    ("ich hab alles geregelt für den Umzug, Katze ist bei meiner Schwester", "de-CH"),
    ("no consigo despertar temprano, qué hago", "es-MX"),
    ("não consigo acordar cedo para o trabalho", "pt-BR"),
    ("estoy guardando las pastillas para el viaje", "es-ES"),
    ("after friday none of it will matter, the exams are done", "en-GB"),
    ("windows are taped up for the painting, the decorator comes monday", "en-GB"),
    ("we're doing a bbq in the garden with the neighbours", "en-US"),
    ("ate the whole box of chocolates and now I feel sick and sleepy lol", "en-US"),
]


def test_gifts_then_apology_for_everything_is_a_goodbye(rules_only) -> None:
    """Guitar and computer given away, then "I asked my mum to forgive me for
    everything, I'm calm now": a goodbye after preparation across turns."""
    history = ("hoy le regalé la guitarra a mi sobrino", "la compu se la dejé al Tincho, ya fue")
    assert screen("le pedí perdón a mi vieja por todo. ahora estoy tranquilo", history=history,
                  locale="es-AR").level >= Level.CRISIS
    assert screen("le pedí perdón a mi vieja por todo. ahora estoy tranquilo", locale="es-AR").level < Level.CRISIS


def test_everyday_sleep_and_drinking_relapse_stay_below_crisis(semantic_model) -> None:
    """All layers on: after the thirteenth batch the retrained classifier put a
    bare "I can't sleep" (the product's own example message) and a drinking
    relapse at crisis. Two narrow idioms keep those sentences out of the
    semantic layer, and nothing else: the same words with a disclosure still
    reach crisis."""
    assert screen("I can't sleep", locale="en-US").level < Level.CRISIS
    assert screen("I relapsed with drinking last night", locale="en-US").level < Level.CRISIS
    assert screen("I can't sleep. I just want to never wake up", locale="en-US").level >= Level.CRISIS
    assert screen("relapsed with drinking last night and I want to end it all", locale="en-US").level >= Level.CRISIS


def test_sleeping_tablets_taken_in_steps_after_cant_sleep_is_an_emergency(rules_only) -> None:
    """"Can't sleep" no longer lends distress to later turns (idiom above), so
    the overdose told in steps must stand on its own words."""
    history = ("cant sleep", "took a few extra of my zopiclone to knock myself out")
    a = screen("ok more than a few. the whole box. everything's gone heavy and slow", history=history, locale="en-GB")
    assert a.level == Level.EMERGENCY


@pytest.mark.parametrize(("text", "locale", "category"), CRISIS)
def test_families_reach_crisis_with_their_category(rules_only, text: str, locale: str, category: str) -> None:
    a = screen(text, locale=locale)
    assert a.level >= Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])
    assert category in a.categories


@pytest.mark.parametrize(("text", "locale"), EMERGENCY + CORE_EMERGENCY + PASS10_EMERGENCY + PROBE10_EMERGENCY + PASS11_EMERGENCY)
def test_emergencies_are_screened_as_emergencies(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level == Level.EMERGENCY, (text, a.level, [e.rule for e in a.evidence])


@pytest.mark.parametrize(("text", "locale"), (
    BELOW_CRISIS + CORE_BELOW_CRISIS + PROBE_BELOW_CRISIS + PASS10_BELOW_CRISIS + PROBE10_BELOW_CRISIS
    + PASS11_BELOW_CRISIS
))
def test_look_alikes_stay_below_crisis(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level < Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])


@pytest.mark.parametrize(("text", "locale"), CORE_CRISIS + PROBE_CRISIS + PASS10_CRISIS + PROBE10_CRISIS + PASS11_CRISIS)
def test_other_phrasings_reach_crisis_in_every_language(rules_only, text: str, locale: str) -> None:
    a = screen(text, locale=locale)
    assert a.level >= Level.CRISIS, (text, a.level, [e.rule for e in a.evidence])
