"""Turn a follow-up question into a standalone query, without an LLM: carry the topic forward.

>>> standalone_query("Und wer soll das ausarbeiten?", ["Was hat der IT-Planungsrat zum Kommunalpakt beschlossen?"])
'Und wer soll das ausarbeiten? IT-Planungsrat Kommunalpakt'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.lexicon import LAENDER, LAND_SHORT
from rag.patterns import DECISION_IN_QUESTION, SESSION_IN_QUESTION
from rag.spelling import is_noun
from rag.terms import tokenize

# words that point back into the conversation: strong ones on their own ("Ist sie …?", "Was steht da drin?"),
# weak ones (also articles and demonstratives: "das OZG") only in a question with almost no words of its own
_STRONG_ANAPHORA = {
    "er", "ihn", "ihm", "dazu", "davon", "darüber", "dafür", "dort", "dabei", "deren", "dessen", "daran", "darin",
    "drin", "hierzu", "hierfür", "demnach", "selbe", "selben", "gleiche", "jenes",
}
_WEAK_ANAPHORA = {"da", "das", "dies", "diese", "dieser", "dieses", "diesem", "diesen", "es", "ihr", "dem", "denen",
                  "damit", "beschluss", "gesetz"}
# particles of a conversation ("Wer wählt die Projekte denn aus?", "Was passiert dann?"): a follow-up when
# the question names no topic of its own
_PARTICLES = {"denn", "dann", "danach", "jetzt", "nun"}
_PRONOUN_SUBJECT = re.compile(r"^\s*\w+\s+(sie|er)\b")  # "Ist sie …", "Hat er …" (lower-case: not the formal "Sie")
_FOLLOWUP_START = re.compile(r"^\s*(und|aber|also|welche(?:r|s)? davon|dazu|außerdem)\b", re.IGNORECASE)
_ASKS_ABOUT = re.compile(r"^\s*(was ist mit|wie ist es mit|wie sieht es)\b", re.IGNORECASE)  # "… mit Hessen?"
_WORD = re.compile(r"[\wÄÖÜäöüß§/.-]+")
_STOP_CAPS = {"Was", "Wer", "Wie", "Wann", "Welche", "Welcher", "Welches", "Warum", "Wo", "Gibt", "Ist", "Sind",
              "Hat", "Haben", "Kann", "Können", "Muss", "Müssen", "Soll", "Sollen", "Und", "Der", "Die", "Das",
              "Ein", "Eine", "Wir", "Uns", "Unsere", "Unser", "Laut", "Bitte", "Mit", "Für", "Zur", "Zum",
              "Im", "In", "Am", "Auf", "Bei", "Nach", "Gemeinde", "Kommune", "Stadt"}


def is_followup(question: str, history: Sequence[str]) -> bool:
    """True when the question leans on the conversation: starts like one, or points back with few own terms."""
    if not history:
        return False
    if _FOLLOWUP_START.search(question) or _PRONOUN_SUBJECT.search(question):
        return True
    lower = {w.lower() for w in _WORD.findall(question)}
    topic = topic_terms(question)
    if _ASKS_ABOUT.search(question):
        return len(topic) <= 1
    if lower & _STRONG_ANAPHORA and len(topic) <= 1:
        return True
    if lower & _PARTICLES and not topic:  # "wer wählt die projekte denn aus?" names nothing of its own
        return True
    if lower and not topic and not tokenize(question, parts=False):  # "Bis wann?", "Warum?": question words only
        return True
    own_terms = [t for t in tokenize(question, parts=False) if len(t) > 3]  # a compound is one term
    return _weak_pronoun(question) and len(own_terms) <= 3 and len(topic) <= 1


def _weak_pronoun(question: str) -> bool:
    """A demonstrative used as a pronoun ("Betrifft das auch uns?"), not as an article ("das OZG").

    >>> _weak_pronoun("Betrifft das auch unser Standesamt?"), _weak_pronoun("Wozu dient das Identifikationsnummerngesetz?")
    (True, False)
    """
    words = _WORD.findall(question)
    return any(w.lower() in _WEAK_ANAPHORA and (i + 1 == len(words) or not words[i + 1][:1].isupper())
               for i, w in enumerate(words))


def topic_terms(text: str) -> list[str]:
    """Capitalised nouns, abbreviations, numbers and references of a question, in order, deduplicated. A
    session stays one reference, so that a follow-up still asks about it:

    >>> topic_terms("Was wurde in der 46. Sitzung beschlossen?"), topic_terms("Was regelt § 9 OZG?")
    (['46. Sitzung'], ['§', '9', 'OZG'])
    """
    out: list[str] = []
    sessions = {m.group(1) for m in SESSION_IN_QUESTION.finditer(text)}
    words = _WORD.findall(text)
    skip = -1
    for i, w in enumerate(words):
        w = w.strip(".-/")
        if i == skip:
            continue
        if w in sessions and i + 1 < len(words) and words[i + 1].lower().rstrip("?.,!").endswith("sitzung"):
            session = f"{w}. Sitzung"  # "46. Sitzung", not "46" and "Sitzung": the session check reads it so
            if session not in out:
                out.append(session)
            skip = i + 1
            continue
        if not w or w in _STOP_CAPS:
            continue
        if i == 0 and not re.search(r"[A-ZÄÖÜ\d]", w[1:]) and not is_noun(w):
            continue  # the first word is capitalised anyway ("Betrifft das …?"); "FIM", "OZG", "Marktplatz" count
        notable = (w[0].isupper() and len(w) > 2) or re.fullmatch(r"\d{4}/\d{1,3}|§|\d+[a-z]?", w)
        if notable and w not in out:
            out.append(w)
    return out


# a follow-up that only names what to ask the same about: "Und bei substanziell?", "Und in Bayern?", "Und 2024?"
_ELLIPSIS = re.compile(r"^\s*(?:und|aber)\s+(?:was ist mit\s+|wie ist es mit\s+|wie sieht es mit\s+)?(?P<rest>[^?]{1,60}?)"
                       r"(?:\s+aus)?\s*\?*\s*$", re.IGNORECASE)
_ASKS_OR_STATES = re.compile(r"\b(?:wer|was|wie|wann|wo|welche[rnms]?|warum|wozu|ob|ist|sind|war|gilt|galt|hat|haben|"
                             r"soll|sollen|muss|müssen|kann|können|darf|dürfen|wird|werden|gibt|betrifft)\b", re.IGNORECASE)


def elliptical_rest(question: str) -> str | None:
    """What an elliptical follow-up asks the previous question about, or None for a question of its own.

    >>> elliptical_rest("Und bei substanziell?"), elliptical_rest("Und was ist mit Hessen?")
    ('bei substanziell', 'Hessen')
    >>> elliptical_rest("Und wer soll das ausarbeiten?"), elliptical_rest("Und gilt das auch für Kreise?")
    (None, None)
    """
    m = _ELLIPSIS.match(question)
    if not m or _ASKS_OR_STATES.search(m.group("rest")) or len(m.group("rest").split()) > 5:
        return None
    return m.group("rest").strip()


# what an elliptical follow-up may name instead of its like in the previous question: a Land, a year, a
# session, a decision, a law by its abbreviation ("EGovG", "SächsEGovG", "OZG") or its name ("…gesetz")
_LAND = "|".join(re.escape(n) for n in sorted({*LAENDER, *LAND_SHORT}, key=len, reverse=True))
_KINDS = (
    re.compile(rf"(?<![\w-])(?:{_LAND})(?![\w-])", re.I),
    SESSION_IN_QUESTION,
    DECISION_IN_QUESTION,
    re.compile(r"\b(?:19|20)\d{2}\b(?!\s*[/-]\s*\d)"),
    re.compile(r"\b(?:[A-ZÄÖÜ][A-Za-zäöü]*[A-ZÄÖÜ][A-Za-zäöü]*G|[\wäöüß-]*(?:gesetz|Gesetz|verordnung|Verordnung))\b"),
)


def _instead(rest: str, previous: str) -> str | None:
    """The previous question with what `rest` names put in place of its like, when `rest` names exactly one
    thing of a kind the previous question names once ("Und im EGovG?" after "Was regelt das OZG zu
    Nutzerkonten?"); None otherwise.

    >>> _instead("im EGovG", "Was regelt das OZG zu Nutzerkonten?"), _instead("Hessen", "Wer ist der CIO von Bayern?")
    ('Was regelt das EGovG zu Nutzerkonten?', 'Wer ist der CIO von Hessen?')
    >>> _instead("2024", "Was hat der IT-Planungsrat 2023 zur DVC beschlossen?"), _instead("bei substanziell", "Wie lange …?")
    ('Was hat der IT-Planungsrat 2024 zur DVC beschlossen?', None)
    """
    for kind in _KINDS:
        new, old = (list(kind.finditer(text)) for text in (rest, previous))
        if len(new) == 1 and len(old) == 1 and new[0][0].lower() != old[0][0].lower():
            return previous[: old[0].start()] + new[0][0] + previous[old[0].end():]
    return None


def standalone_query(question: str, history: Sequence[str]) -> str:
    """The question itself when it stands alone; else the question plus the topic of the last turns. An
    elliptical one ("Und bei substanziell?") asks the previous question again about what it names.

    >>> standalone_query("Und bei substanziell?", ["Wie lange darf eine Sitzung auf Vertrauensniveau hoch dauern?"])
    'Wie lange darf eine Sitzung auf Vertrauensniveau hoch dauern? (bei substanziell)'
    """
    if not is_followup(question, history):
        return question
    rest = elliptical_rest(question)
    if rest is not None:
        previous = standalone_query(history[-1], history[:-1])
        return _instead(rest, previous) or f"{previous} ({rest})"
    own = {w.lower() for w in topic_terms(question)}
    carried: list[str] = []
    for earlier in reversed(history[-2:]):
        for t in topic_terms(earlier):
            if t.lower() not in own and t not in carried:
                carried.append(t)
        if carried:
            break  # the most recent turn that has a topic wins
    return f"{question} {' '.join(carried)}".strip()
