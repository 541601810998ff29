"""What kind of statement answers a question ("Seit wann …?" a date, "Wie viel kostet …?" an amount) and
whether a sentence holds one: per `AnswerType`, a pattern on the question and one on the sentence.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

from rag.lexicon import ABBREVIATIONS, MONTHS, NUMBER_WORDS, STOPWORDS
from rag.patterns import NAMES_SESSION
from rag.terms import spell, stem


class AnswerType(StrEnum):
    MONEY = "money"
    DURATION = "duration"
    NUMBER = "number"
    SESSION = "session"
    WHEN = "when"  # a date, a period or a condition ("Wann wird ein Konto gelöscht?")
    DATE = "date"
    ACTOR = "actor"
    PLACE = "place"
    LIST = "list"
    FUNDING = "funding"  # who pays, from which budget, in which shares
    DEFINITION = "definition"  # "Was heißt EfA?": the sentence that spells the abbreviation out
    CONTACT = "contact"  # "Unter welcher Telefonnummer …?": a phone number or an e-mail address
    PERSON = "person"  # "Wer ist der CIO von Hessen?": the holder of an office, by name


# "Wie hoch ist die Umlage?", also asked of one's own ("Wie hoch ist unsere Umlage?")
_DET = r"(?:der|die|das|unser|unsere|unser[ems]|mein|meine|ihr|ihre)"
_MONEY_Q = re.compile(r"\b(was kostet|wie ?viel (geld|euro|kostet|kosten)|wie hoch (ist|sind) " + _DET + r" [\w-]*(betrag|kosten|"
                      r"umlage|beitrag|förder|budget|summe|entgelt|gebühr|preis|hebesatz))|\bin euro\b", re.I)
_COUNT_Q = re.compile(r"\b(wie ?viele[nr]?|welchen anteil|wie hoch (ist|sind) " + _DET + r" [\w-]*(anteil|quote|satz))\b", re.I)
_MONEY = re.compile(r"€|\beuro\b|\bmio\b|millionen|milliarden|\btsd\b|tausend", re.I)
_NUMBER = re.compile(r"%|prozent|\b(?!(19|20)\d\d\b)\d[\d.,]*\b|\b(zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|"
                     r"elf|zwölf|hälfte|drittel|viertel)\b", re.I)


# "Wie viele Zeichen …?", "innerhalb wie vieler Stunden", "wie viele ozg leistungen": what is counted follows
_COUNTED_Q = re.compile(r"\bwie\s?viele[nrs]?\s+([\w-]+)(?:\s+([\w-]+))?", re.I)
_NUMBER_WORD = re.compile(rf"\d[\d.,]*%?|(?:{'|'.join(NUMBER_WORDS)}|zwanzig|dreißig|vierzig|fünfzig|hundert|tausend)\w*",
                          re.I)
_TOKEN = re.compile(r"[\w%€][\w.,%/-]*")
_NEAR = 3  # tokens between a number and what it counts: "16 Länder", "mindestens 12 Zeichen", "Zeichen: 12"


def counted_nouns(question: str) -> tuple[str, ...]:
    """What a count question counts: its next one or two words after "wie viele" that are no function words,
    lower case, umlauts spelt as umlauts.

    >>> counted_nouns("Wie viele Zeichen muss ein Passwort haben?"), counted_nouns("wie viele ozg leistungen gibt es")
    (('zeichen',), ('ozg', 'leistungen'))
    """
    m = _COUNTED_Q.search(question)
    if not m:
        return ()
    return tuple(w for w in (spell(g.lower()) for g in m.groups() if g)
                 if w not in STOPWORDS and not _NUMBER_WORD.fullmatch(w))


def _names(counted: str, word: str) -> bool:
    """Does `word` (a word of the evidence) name what `counted` (a word of the question) names: the same
    stem ("Tage" ~ "tagen"), a compound of it ("Kalendertage"), or the head of a counted compound
    ("Leistungen" for "Verwaltungsleistungen")?"""
    word = spell(word.lower().rstrip("0123456789"))  # "10 Tage⁴" is extracted as "Tage4"
    sc, sw = stem(counted), stem(word)
    return (sc == sw or (len(sc) >= 3 and sw.endswith(sc)) or (len(sw) >= 5 and sc.endswith(sw))
            or (len(word) >= 5 and counted.endswith(word)))


def counts(counted: tuple[str, ...], evidence: str) -> bool:
    """Does the evidence put a number next to something the question counts ("12 Zeichen", "575
    OZG-Leistungen", "Kommunen: 2.000")? A compound counts by its head ("Verwaltungsleistungen"), and a
    counted compound by a word that ends it ("Mitgliedskommunen" ~ "Kommunen").

    >>> counts(("zeichen",), "Das Passwort muss mindestens 12 Zeichen lang sein."), counts(("zeichen",), "12 Monate")
    (True, False)

    A requirement's identifier is no number: "A3.9.02 Zeichenketten …" counts nothing.

    >>> counts(("zeichen",), "A3.9.02 Zeichenketten werden geprüft.")
    False
    """
    toks = [t.rstrip(".,") for t in _TOKEN.findall(evidence)]
    numbers = [i for i, t in enumerate(toks) if _NUMBER_WORD.fullmatch(t)]
    return any(_names(c, part) for i in numbers for j in range(max(0, i - _NEAR), min(len(toks), i + _NEAR + 1))
               if j != i for part in toks[j].split("-") if part for c in counted)


_ROLE = (r"(?:CIO|Präsident(?:in)?|Leiter(?:in)?|Chef(?:in)?|Staatssekretär(?:in)?|Minister(?:in)?|"
         r"Vorsitzende[rn]?|Beauftragte[rn]?|Geschäftsführer(?:in)?|Bürgermeister(?:in)?|Landrat|Landrätin)")
_PERSON_Q = re.compile(rf"\bwer\b[^?]*\b{_ROLE}\b", re.I)  # "Wer ist der CIO …?", "Wer leitet als Präsident …?"
_NAME = r"[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜ][a-zäöüß]+)?\s+(?:von\s+)?[A-ZÄÖÜ][a-zäöüß]+"
_PERSON = re.compile(rf"\b(?:Dr\.|Prof\.|Herr|Frau|{_ROLE})\s+(?:Dr\.\s+)?{_NAME}|"  # "Staatssekretärin Ina-Maria Ulbrich"
                     rf"\b{_ROLE}\b[^.;]{{0,60}},\s+{_NAME}|"  # "CIO von Hessen, Patrick Burghardt"
                     rf"\b{_NAME},\s+(?:[\w-]+\s+){{0,3}}{_ROLE}\b")  # "Patrick Burghardt, Vorsitzender des …"



def answer_type_missing(question: str, evidence: str) -> bool:
    """A question asking for an amount of money or a count must get one: 'Wie hoch ist die Umlage?'
    answered with sentences that name no amount is not an answer.

    >>> answer_type_missing("Was kostet der Dienst pro Jahr?", "Der Dienst wird 2024 eingeführt.")
    True
    >>> answer_type_missing("Wie hoch ist unsere Umlage für den Kommunalpakt?", "Der IT-Planungsrat stimmt zu.")
    True

    A question for the holder of an office wants a person, not the Land of a treaty's list of parties:

    >>> answer_type_missing("Wer ist der CIO von Thüringen?", "… und dem Freistaat Thüringen wird zugestimmt.")
    True
    >>> answer_type_missing("Wer ist der CIO von Hessen?", "… und CIO von Hessen, Patrick Burghardt, unterschreibt.")
    False
    >>> answer_type_missing("Wer ist der CIO von Hessen?", "… von Patrick Burghardt, Vorsitzender und CIO von Hessen.")
    False

    Asked for a phone number or an e-mail address, the evidence must hold one, not merely name the office:

    >>> answer_type_missing("Unter welcher Telefonnummer erreiche ich die Geschäftsstelle?", "Die Geschäftsstelle berät.")
    True
    >>> answer_type_missing("gibt es eine e-mail-adresse der geschäftsstelle", "Kontakt: geschaeftsstelle@example.de")
    False
    """
    if _MONEY_Q.search(question):
        return not _MONEY.search(evidence)
    if _COUNT_Q.search(question):
        counted = counted_nouns(question)
        return not (counts(counted, evidence) if counted else _NUMBER.search(evidence))
    if _PERSON_Q.search(question):
        return not _PERSON.search(evidence)
    if _Q_CONTACT.search(question):
        return not _CONTACT.search(evidence)
    return False


_Q_DATE = re.compile(r"\b(wann|seit wann|bis wann|ab wann|an welchem (tag|datum)|welches datum|datum|frist|"
                     r"zeitpunkt|in welchem jahr|stichtag)\b", re.I)
_Q_SESSION = re.compile(r"\b(welche[rnms]? sitzung|in welcher sitzung)\b", re.I)
_Q_WHO = re.compile(r"^\W*(und\s+)?wer\b|\bwer (hat|ist|soll|muss|darf|übernimmt|war|wird|hatte)\b|"
                    r"\b(welche[rnms]? (land|länder|behörde|stelle|organisation|gremium|bundesland))\b", re.I)
_Q_WHERE = re.compile(r"^\W*(und\s+)?wo\b|\bwo (hat|ist|fand|wurde|sitzt)\b|\bin welcher stadt\b", re.I)
_DATE = re.compile(r"\b\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}\b|\b\d{1,2}\.\s?(" + "|".join(MONTHS) +
                   r")\b|\b(" + "|".join(MONTHS) + r")\s+\d{4}\b|\b(19|20)\d\d\b|"
                   # a day counted from an event: "am dritten Tag nach der Bereitstellung", "mit Ablauf des Monats"
                   r"\b(?:am|ab dem|bis zum|vom)\s+(?:\w+ten|\w+sten|\d+\.)\s+(?:werk)?tag\b|\bmit ablauf (?:des|der)\b", re.I)
# "Wie wird die Nachnutzung finanziert?", "Wer bezahlt den Betrieb?", "Wer trägt die Kosten?": the answer names
# money, shares or a budget; a sentence that merely mentions "finanzierten Leistungen" does not
_Q_FUNDING = re.compile(r"\b(?:wie\s+(?:wird|werden|wurde|wurden|ist|sind)\b[^?]{0,80}\bfinanziert|"
                        r"wer\s+(?:finanziert|bezahlt|zahlt)\b|wer\s+(?:trägt|übernimmt)\s+(?:die\s+)?(?:kosten|finanzierung)\b|"
                        r"wer\s+(?:muss|soll|wird)\b[^?]{0,60}\b(?:bezahlen|zahlen|finanzieren|tragen)\b|"
                        r"woraus\b[^?]{0,60}\bfinanziert|aus welche[mn]\s+(?:topf|budget|haushalt|mitteln)|"
                        r"wie\s+(?:werden|wurden|sind)\s+(?:die\s+)?kosten\s+(?:verteilt|aufgeteilt))", re.I)
_FUNDING = re.compile(r"€|\beuro\b|\bmio\b|millionen|milliarden|%|prozent|\banteil|budget|haushalt|"
                      r"\bmitteln?\b|schlüssel\b|umlage|zuschuss|eigenmittel|finanzierungsanteil", re.I)
_PLACE = re.compile(r"\b(in|im|nach)\s+[A-ZÄÖÜ][a-zäöüß]+")
# "Unter welcher Telefonnummer …?", "gibt es eine E-Mail-Adresse …?" (not "per E-Mail", which asks about a channel)
_Q_CONTACT = re.compile(r"\b(?:telefonnummer|telefon-?nr|rufnummer|faxnummer|hotline|kontaktdaten|kontaktadresse|"
                        r"e-?mail-?adresse|mailadresse)n?\b", re.I)
_CONTACT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+|(?:\btel(?:efon)?|\bfax|\bhotline)\b\.?:?\s*\+?\(?\d|"
                      r"(?<![\d.,/-])(?:\+49\s?|0)\d{2,5}[ /-]?\d{3,}", re.I)
_ACTOR = re.compile(r"\b(bund|land|länder|bmi|fitko|it-planungsrat|kommunen|behörde|ministerium|hessen|bayern|"
                    r"berlin|hamburg|bremen|sachsen|sachsen-anhalt|thüringen|brandenburg|niedersachsen|saarland|"
                    r"nordrhein-westfalen|rheinland-pfalz|schleswig-holstein|mecklenburg-vorpommern|"
                    r"baden-württemberg|dr\.|[A-ZÄÖÜ][a-zäöü]+ [A-ZÄÖÜ][a-zäöü]+(?= \())", re.I)


_UNIT = r"(?:sekunden|minuten|stunden|tage[n]?|tag|wochen?|monate[n]?|monat|jahre[n]?|jahr)"
_Q_DURATION = re.compile(r"\b(wie lange|wie oft|in welchem (abstand|turnus|rhythmus)|nach wie vielen? " + _UNIT +
                         r"|wie viele " + _UNIT + r")\b", re.I)
_DURATION = re.compile(r"\b(\d+|eine[nmr]?|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|vierzehn|"
                       r"dreißig|\d+-?\s?bis\s?\d+)\s+(?:\w+\s+)?" + _UNIT + r"\d?\b|\b(\w+jährig|\w+monatig|jährlich|"
                       r"monatlich|wöchentlich|täglich|unverzüglich|dauerhaft|unbefristet)\w*", re.I)
# "Wann braucht man einen Antragsroutingdienst?", "Wann wird ein Konto gelöscht?" ask for a condition
# ("wenn …", "sofern …"), a period ("nach drei Jahren") or a date; "Seit wann …?" asks for a date only
_Q_WHEN = re.compile(r"^\W*(?:und\s+)?wann\s+(?:braucht|brauchen|benötigt|muss|müssen|darf|dürfen|gilt|gelten|"
                     r"kann|können|soll|sollen|sollte|ist|sind|wird|werden|liegt|besteht|greift|entfällt|endet)\b", re.I)
_CONDITION = re.compile(r"(?:^|[,;:–]\s*)(?:wenn|sofern|falls|soweit|sobald|solange)\b", re.I)  # a clause, not "(und soweit nötig"
# "Welche Modelle unterscheidet das BSI?", "Nach welchen Kriterien …?", "welche Schritte gibt es?": the answer
# is an enumeration. The plural is told from the verb or the noun; a singular "Welche Behörde ist …" is no list
_Q_LIST = re.compile(r"\b(?:welche|nach welchen|aus welchen|mit welchen|von welchen|in welchen|"
                     r"welche (?:zwei|drei|vier|fünf|beiden))\s+(?:[\w-]+\s+){0,2}?[\w-]*(?:en|ien|nisse|e|s|er)\s+"
                     r"(?:gibt|sind|werden|unterscheidet|unterscheiden|nennt|nennen|hebt|umfasst|umfassen|"
                     r"darf|dürfen|muss|müssen|sollen|sollte|können|kann|hat|haben|gelten|stehen|fallen|"
                     r"legt|regelt|sieht)\b|\bnach welchen kriterien\b|\bwelche (?:schritte|kosten|aufgaben|"
                     r"anforderungen|funktionen|modelle|bausteine|voraussetzungen|kriterien|dateien|punkte|"
                     r"möglichkeiten|varianten|arten|stufen|phasen|rollen|pflichten|rechte|daten|inhalte|"
                     r"maßnahmen|regeln|ziele|themen|bereiche|komponenten|prinzipien)\b", re.I)
_LIST = re.compile(r"(?:\n\s*(?:[•o▪◦*–-]|\d{1,2}[.)]|[a-z][.)]|\([a-z0-9]\))\s.*){2,}|"
                   r"(?:^|\s)\(?(?:[a-z]\)|\d\.)\s.*\s\(?(?:[a-z]\)|\d\.)\s|"
                   r"\b(?:[\w-]+(?:\s+[\w-]+){0,2},\s+){2,}[\w-]+(?:\s+[\w-]+){0,2}\s+(?:und|sowie|oder)\s", re.S)


# (kind, the question asks for it, a sentence holds it) — the first kind whose question pattern matches wins
_ANSWER_TYPES = (
    (AnswerType.CONTACT, _Q_CONTACT, _CONTACT),
    (AnswerType.MONEY, _MONEY_Q, _MONEY),
    (AnswerType.DURATION, _Q_DURATION, _DURATION),
    (AnswerType.NUMBER, _COUNT_Q, _NUMBER),
    (AnswerType.SESSION, _Q_SESSION, NAMES_SESSION),
    (AnswerType.WHEN, _Q_WHEN, re.compile("|".join(f"(?:{r.pattern})" for r in (_DATE, _DURATION, _CONDITION)), re.I)),
    (AnswerType.DATE, _Q_DATE, _DATE),
    (AnswerType.FUNDING, _Q_FUNDING, _FUNDING),
    (AnswerType.PERSON, _PERSON_Q, _PERSON),
    (AnswerType.ACTOR, _Q_WHO, _ACTOR),
    (AnswerType.PLACE, _Q_WHERE, _PLACE),
    (AnswerType.LIST, _Q_LIST, _LIST),
)
_HOLDS = {kind: holds for kind, _asks, holds in _ANSWER_TYPES}


# "Was heißt EfA?", "wofür steht ozg", "Was ist die FITKO?": an abbreviation asked for on its own (not "Was
# bedeutet EfA für uns?", which asks what follows from it)
_FILLER = r"(?:(?:denn|eigentlich|genau|überhaupt|ueberhaupt|die abkürzung|der begriff|das kürzel)\s+)*"
_Q_DEFINITION = re.compile(r"^\W*(?:und\s+)?(?:was\s+(?:heißt|heisst|bedeutet|meint)|wof(?:ü|ue)r\s+steht|"
                           rf"was\s+steht\s+hinter|was\s+(?:ist|sind)\s+{_FILLER}(?:der|die|das|ein|eine)?)\s*{_FILLER}"
                           r"[„\"']?([\w][\w-]*)[“\"']?(?:\s+(?:eigentlich|genau|überhaupt|ueberhaupt|denn))*\W*$", re.I)
_ACRONYM = re.compile(r"\w*[A-ZÄÖÜ]\w*[A-ZÄÖÜ]\w*")  # two capitals at least: "EfA", "FITKO", "BundID"


@lru_cache(maxsize=256)  # asked once per candidate sentence of a question
def defined_term(question: str) -> str | None:
    """The abbreviation a question asks to spell out, else None.

    >>> defined_term("Was heißt EfA?"), defined_term("wofür steht OZG"), defined_term("Was ist die FITKO?")
    ('EfA', 'OZG', 'FITKO')
    >>> defined_term("Was bedeutet EfA für uns?"), defined_term("Was ist der Marktplatz?")
    (None, None)
    """
    m = _Q_DEFINITION.search(question)
    term = m.group(1) if m else None
    return term if term and (term.lower() in ABBREVIATIONS or _ACRONYM.fullmatch(term)) else None


def defines(term: str, sentence: str) -> bool:
    """Does the sentence spell the abbreviation out: its long form from the domain table, or the long form
    written with it ("Föderale IT-Kooperation (FITKO)", "FITKO (Föderale IT-Kooperation)")?

    >>> defines("EfA", "nach dem Prinzip „Einer für Alle“ (EfA)"), defines("FITKO", "Die FITKO (Föderale IT-Kooperation) ist …")
    (True, True)
    >>> defines("FITKO", "Die FITKO legt einen Bericht vor.")
    False
    """
    def flat(text: str) -> str:
        return re.sub(r"[\s\-–„“\"]+", " ", text).lower()

    long = ABBREVIATIONS.get(term.lower())
    if long and flat(long) in flat(sentence):
        return True
    t = re.escape(term)
    return bool(re.search(rf"[A-ZÄÖÜ][\w-]+(?:\s+[\w-]+){{0,5}}[“\"]?\s*\(\s*(?i:{t})\s*\)|"
                          rf"\b(?i:{t})\s*\(\s*[A-ZÄÖÜ]|\b(?i:{t})\s+(?:steht für|bedeutet)\b", sentence))


def answer_type(question: str) -> AnswerType | None:
    """What kind of statement answers the question: 'date', 'session', 'money', 'number', 'actor', 'place'.

    >>> answer_type("Seit wann gilt das?"), answer_type("Wer übernimmt den Baustein?"), answer_type("Was ist der Marktplatz?")
    (<AnswerType.DATE: 'date'>, <AnswerType.ACTOR: 'actor'>, None)

    Asked how something is paid for, the answer names money, shares or a budget; "finanzierten" in passing
    is no such statement:

    >>> answer_type("Wie wird die Nachnutzung ab 2024 finanziert?"), answer_type("wer zahlt den betrieb")
    (<AnswerType.FUNDING: 'funding'>, <AnswerType.FUNDING: 'funding'>)
    >>> has_answer_type("funding", "Die Kosten tragen zu 50 % die Länder."), has_answer_type("funding", "bei finanzierten Leistungen")
    (True, False)
    """
    if defined_term(question):
        return AnswerType.DEFINITION
    return next((kind for kind, asks, _holds in _ANSWER_TYPES if asks.search(question)), None)


def has_answer_type(kind: AnswerType, sentence: str, question: str = "") -> bool:
    """Does the sentence hold a statement of that kind? (A definition: of the term `question` asks about.)

    >>> has_answer_type("date", "Der Marktplatz ist ab dem 01.04.2024 verbindlich."), has_answer_type("date", "Er gilt.")
    (True, False)
    >>> has_answer_type("definition", "Das Onlinezugangsgesetz (OZG) verpflichtet …", "wofür steht ozg")
    True
    """
    if kind == AnswerType.DEFINITION:
        term = defined_term(question)
        return bool(term and defines(term, sentence))
    return bool(_HOLDS[kind].search(sentence))

