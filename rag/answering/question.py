"""A question, analysed once: what it names (decisions, sessions, §§, a month), what it asks for (an
`AnswerType`, the past, a session's decisions) and its parts. Retrieval and the
answerer both read the frozen `Question` instead of re-running these patterns.

>>> q = Question.parse("Was hat der IT-PLR im März 2021 in der 35. Sitzung beschlossen?")
>>> q.period, sorted(q.references["session"]), q.asks_decisions, q.decided_in
(('2021-03-01', '2021-03-31'), ['35'], True, 35)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.answering.answer_types import AnswerType, answer_type
from rag.doctype import DocType
from rag.grounding import QueryTerms
from rag.patterns import (
    ABOUT_DECISIONS,
    ASKS_DECISIONS,
    DECIDED_IN_SESSION,
    DECISION_IN_QUESTION,
    SESSION_IN_QUESTION,
    query_period,
)

PARAGRAPH_REF = re.compile(r"§\s*(\d+[a-z]?)", re.IGNORECASE)


def query_references(query: str) -> dict[str, set[str]]:
    """Exact references in a question: decision numbers, session numbers, § numbers.

    >>> sorted(query_references("Was steht in Beschluss 2023/02 und § 1a OZG?")["decision"])
    ['2023/02']
    """
    return {
        "decision": {f"{y}/{int(n):02d}" for y, n in DECISION_IN_QUESTION.findall(query)},
        "session": {str(int(s)) for s in SESSION_IN_QUESTION.findall(query)},
        "para": {p.lower() for p in PARAGRAPH_REF.findall(query)},
    }


_INTENTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (ABOUT_DECISIONS, DocType.DECISION),
    (re.compile(r"§|\bGesetz|\b(OZG|EGovG|IDNrG|RegMoG|IT-NetzG|Staatsvertrag|Verordnung)\b|rechtlich", re.I),
     DocType.LAW),
    (re.compile(r"\bBSI\b|\bTR[- ]?\d|Technische[n]? Richtlinie", re.I), DocType.GUIDELINE),
    (re.compile(r"\bFAQ\b|häufig gestellt", re.I), "FAQ"),
)


# "Was galt vor dem OZG 2.0?", "in der alten Fassung", "ursprünglich": the older version of a law is asked for
_ASKS_PAST = re.compile(r"\b(?:früher|vormals|ursprünglich|damals|bisher|bislang|galt|galten|alte[nmrs]?|"
                        r"ältere[nmrs]?|vorherige[nmrs]?|frühere[nmrs]?|vor\s+(?:de[mnr]|einer|ihrer|seiner)?\s*"
                        r"(?:Änderung|Novelle|Reform|OZG[- ]?2\.0|OZG-Änderung)|vor\s+(?:19|20)\d\d)\b", re.I)


def query_intents(query: str) -> set[str]:
    """Document types a question asks for by its wording.

    >>> query_intents("Was hat der IT-PLR beschlossen?") == {"Beschluss/Entscheidung"}
    True
    """
    return {doc_type for pattern, doc_type in _INTENTS if pattern.search(query)}


_PART_SPLIT = re.compile(r"(?<=\?)\s+|[,;]?\s+(?=und\s+(?:wer|was|wie|wann|welche[rnms]?|gibt|gilt|ist|sind|muss|"
                         r"müssen|seit|bis|ab|wo|warum|ob)\b)|[,;]\s+(?=(?:wer|wie|wann|welche[rnms]?|seit wann|"
                         r"bis wann|warum)\s+(?:hat|ist|sind|wird|werden|soll|sollen|muss|müssen|kann|gilt)\b)", re.I)


def question_parts(question: str) -> list[str]:
    """The sub-questions of a question that asks several things, else the two alternatives of an
    "A oder B?" question (see `_alternatives`); [] for a simple question.

    >>> question_parts("Müssen wir EfA-Leistungen über den Marktplatz beziehen? Seit wann gilt das?")
    ['Müssen wir EfA-Leistungen über den Marktplatz beziehen?', 'Seit wann gilt das?']
    >>> question_parts("Wer soll den Marktplatz aufbauen, und wie werden die Kommunen beteiligt?")
    ['Wer soll den Marktplatz aufbauen', 'und wie werden die Kommunen beteiligt?']
    >>> question_parts("Was ist der EfA-Marktplatz, wer hat ihn aufgebaut und müssen wir ihn nutzen?")
    ['Was ist der EfA-Marktplatz', 'wer hat ihn aufgebaut', 'und müssen wir ihn nutzen?']
    >>> question_parts("Wo und wann hat der IT-PLR getagt?")
    ['Wo hat der IT-PLR getagt?', 'wann hat der IT-PLR getagt?']
    >>> question_parts("Was regelt § 1a OZG?")
    []
    """
    parts = [p.strip() for p in _PART_SPLIT.split(question) if p and len(p.split()) >= 2]
    if len(parts) >= 2:
        return parts
    two = _TWO_ASKS.match(question)
    if two:  # "Wo und wann hat der IT-PLR getagt?" asks for a place and for a date
        return [f"{two.group(1)} {two.group(3)}", f"{two.group(2)} {two.group(3)}"]
    return _alternatives(question)


_WH = r"wer|wo|wann|seit wann|bis wann|ab wann|wie lange|wie viel|wieviel|was|wie"
_TWO_ASKS = re.compile(rf"^\W*({_WH})\s+und\s+({_WH})\s+(\w.*)$", re.I | re.S)


_OR = re.compile(r"(,?)\s+oder\s+")
_CLAUSE_START = re.compile(r"(?:gibt|gab|wurde|wird|werden|wurden|ist|sind|war|hat|haben|gilt|galt|muss|müssen|kann|"
                           r"können|soll|sollen|braucht|reicht)\b", re.I)


def _alternatives(question: str) -> list[str]:
    """The two alternatives of a question that asks "A or B?" ("… – am dritten oder am vierten Tag?",
    "Gilt X noch, oder wurde X ersetzt?"): each must be answered. A plain "Präsidentin oder Präsident" is
    no choice between answers and gives [].

    >>> _alternatives("Ab wann gilt er als bekannt gegeben – am dritten oder am vierten Tag?")
    ['am dritten', 'am vierten Tag']
    >>> _alternatives("Gilt die Planung von 2022 noch, oder wurde die ersetzt?")
    ['Gilt die Planung von 2022 noch', 'wurde die ersetzt']
    >>> _alternatives("Wer leitet derzeit als Präsidentin oder Präsident das BSI?")
    []
    """
    sentence = next((s for s in re.findall(r"[^?]+\?", question) if " oder " in s), "")
    m = _OR.search(sentence)
    if not m:
        return []
    left, right = sentence[: m.start()].strip(), sentence[m.end():].strip().rstrip("?").strip()
    cut = max(left.rfind("–"), left.rfind(":"), left.rfind(" - "))
    if cut >= 0:
        left = left[cut + 1 :].strip()
    elif not m.group(1) and not _CLAUSE_START.match(right):
        return []
    parts = [left, right]
    return parts if all(len(p.split()) >= 2 for p in parts) else []



@dataclass(frozen=True)
class Part:
    """One sub-question of a question asking several things, with its own terms and answer type."""

    text: str
    terms: QueryTerms
    answer_type: AnswerType | None


_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+(?=\S)")


def question_core(question: str) -> str | None:
    """The interrogative sentences of a question that first tells about the asker's situation ("Wir sind
    eine kleine Gemeinde in Thüringen. Welche Register bekommen die Identifikationsnummer?" → "Welche
    Register bekommen die Identifikationsnummer?"); None for a question that does not open with a
    statement. The situation helps to find passages, but a document need not repeat it to answer.

    >>> question_core("Wir sind eine kleine Gemeinde in Thüringen. Welche Register sind betroffen?")
    'Welche Register sind betroffen?'
    >>> question_core("Unser Dienst läuft beim Land: Was verlangt das BSI? Und bis wann?")
    'Was verlangt das BSI? Und bis wann?'
    >>> question_core("Welche Register sind betroffen?"), question_core("was gilt ab 1. 1. 2024 fuer uns")
    (None, None)
    >>> question_core("bürger laden nachweise hoch . was verlangt das bsi für diese dateien")
    'was verlangt das bsi für diese dateien'
    """
    sentences = _SENTENCE_END.split(question.strip())
    if len(sentences) >= 2 and not sentences[0].endswith("?"):
        asked = [x for x in sentences if x.endswith("?")]
        if not asked:  # typed without a question mark: what opens like a question
            asked = [x for x in sentences[1:] if _OPENS_QUESTION.match(x)]
        if asked and len(asked) < len(sentences):
            return " ".join(asked)
    return _after_situation(question)


# the asker first says who they are or what they have ("wir sind eine kleine gemeinde in hessen", "unser
# fachverfahren hängt …", "bei uns läuft …", "als kleine kommune …") and asks after a comma, a dash or no mark at all
_SITUATION = re.compile(r"^\W*(?:wir\s+[a-zäöüß]+\b|ich\s+bin\b|"
                        r"unser(?:e[nrms]?)?\s|bei\s+uns\b|als\s+(?:kleine[rs]?\s+)?(?:gemeinde|kommune|stadt|"
                        r"verbandsgemeinde|samtgemeinde|amt|landkreis|kreis)\b)", re.I)
_ASKING = r"(?:wie|was|wer|wann|welche[rnms]?|wo|wof(?:ü|ue)r|warum|wieso|weshalb|inwieweit|ob)"
_VERB_FIRST = (r"(?:muss|müssen|muessen|darf|dürfen|duerfen|kann|können|koennen|soll|sollen|gibt|gilt|gelten|brauchen|"
               r"braucht|reicht|betrifft|haben|hat|ist|sind)")
_ASKED_AFTER = re.compile(rf"(?:[,;:]\s+|\s[–-]\s+)(?=(?:{_ASKING}|{_VERB_FIRST})\b)|\s+(?={_ASKING}\s)", re.I)
# a question typed without a mark that opens with its verb: "… keine it-abteilung ist eigentlich unser land …",
# "… auf muss der bürger …" (the verb, then its subject; not "… und haben keine …")
_VERB_ASKED = re.compile(rf"\s+(?={_VERB_FIRST}\s+(?:der|die|das|den|dem|wir|man|es|eigentlich|denn|ein|eine|einen|ich|"
                         r"unser\w*|mein\w*)\b)", re.I)
_JOINED = {"und", "oder", "aber", "dass", "daß", "wenn", "weil", "ob", "sowie"}
_OPENS_QUESTION = re.compile(rf"^\W*(?:und\s+)?(?:{_ASKING}|{_VERB_FIRST})\b", re.I)


def _after_situation(question: str) -> str | None:
    """What is asked after an opening situation typed without a sentence end ("wir sind eine kleine gemeinde in
    hessen – wie werden die kosten verteilt", "wir sind in bayern, müssen wir den marktplatz nutzen").

    >>> _after_situation("wir sind eine kleine gemeinde in hessen – wie werden die kosten verteilt")
    'wie werden die kosten verteilt'
    >>> _after_situation("wir sind eine kleine gemeinde in thüringen welche register sind betroffen")
    'welche register sind betroffen'
    >>> _after_situation("Wir sind in Bayern, müssen wir den Marktplatz nutzen?")
    'müssen wir den Marktplatz nutzen?'
    >>> _after_situation("wie werden die kosten verteilt"), _after_situation("wir sind unsicher")
    (None, None)
    >>> _after_situation("wir haben keine it-abteilung ist eigentlich unser land verpflichtet")
    'ist eigentlich unser land verpflichtet'
    >>> _after_situation("wir bauen einen onlineantrag auf muss der bürger eine kopie bekommen")
    'muss der bürger eine kopie bekommen'
    >>> _after_situation("wir sind klein und haben keine it-abteilung"), _after_situation("wir sind klein und haben wir das")
    (None, None)
    """
    opening = _SITUATION.match(question)
    if not opening:
        return None
    m = _ASKED_AFTER.search(question, opening.end())
    if m is None:
        m = next((v for v in _VERB_ASKED.finditer(question, opening.end())
                  if question[: v.start()].split()[-1].lower() not in _JOINED), None)
    return (question[m.end():].strip() or None) if m else None


@dataclass(frozen=True)
class Question:
    """Everything the patterns say about one (standalone) question; built once by `analyse`."""

    text: str
    terms: QueryTerms = field(default_factory=QueryTerms)  # rank the sentences
    refusal_terms: QueryTerms | None = None  # decide whether to answer at all (default: `terms`)
    parts: tuple[Part, ...] = ()
    answer_type: AnswerType | None = None
    intents: frozenset[str] = frozenset()  # the document types it asks for by its wording
    period: tuple[str, str] | None = None  # "im März 2021": ISO span
    references: dict[str, set[str]] = field(default_factory=dict)  # decision, session, para numbers it names
    asks_past: bool = False  # "Was galt vor dem OZG 2.0?"
    asks_decisions: bool = False  # "Was wurde beschlossen?", "Beschlusslage": the session check uses it
    decided_in: int | None = None  # "… in der 47. Sitzung …": the session number
    core_terms: QueryTerms | None = None  # the terms of its `question_core`, when it opens with a statement

    @classmethod
    def parse(cls, text: str, terms: QueryTerms | None = None, refusal_terms: QueryTerms | None = None,
              parts: Sequence[tuple[str, QueryTerms]] = (), core_terms: QueryTerms | None = None) -> Question:
        """Analyse `text`; `terms`, `refusal_terms` and the parts' terms come from the index's analyser
        (`rag.grounding.analyse_query`), the rest from the question's wording alone."""
        decided_in = DECIDED_IN_SESSION.search(text)
        return cls(
            text=text,
            terms=terms if terms is not None else QueryTerms(),
            refusal_terms=refusal_terms,
            parts=tuple(Part(p, t, answer_type(p)) for p, t in parts),
            answer_type=answer_type(text),
            intents=frozenset(query_intents(text)),
            period=query_period(text),
            references=query_references(text),
            asks_past=bool(_ASKS_PAST.search(text)),
            asks_decisions=bool(ASKS_DECISIONS.search(text)),
            decided_in=int(decided_in.group(1)) if decided_in else None,
            core_terms=core_terms,
        )

    @property
    def asks(self) -> tuple[Part, ...]:
        """The (sub-)questions that must each get a statement: the parts, or the question itself when it
        asks for a type of statement (a date, an amount …)."""
        if self.parts:
            return self.parts
        return (Part(self.text, self.terms, self.answer_type),) if self.answer_type else ()
