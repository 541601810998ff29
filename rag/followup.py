"""Turn a follow-up question into a standalone query, without an LLM: carry the topic forward.

>>> standalone_query("Und wer soll das ausarbeiten?", ["Was hat der IT-Planungsrat zum Kommunalpakt beschlossen?"])
'Und wer soll das ausarbeiten? IT-Planungsrat Kommunalpakt'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.text import tokenize

_ANAPHORA = {
    "das", "dies", "diese", "dieser", "dieses", "diesem", "diesen", "er", "sie", "es", "ihn", "ihm", "ihr",
    "dazu", "davon", "darüber", "dafür", "damit", "dort", "dabei", "deren", "dessen", "dem", "denen",
    "daran", "darin", "hierzu", "hierfür", "demnach", "selbe", "gleiche", "jenes", "beschluss", "gesetz",
}
_FOLLOWUP_START = re.compile(
    r"^\s*(und|aber|also|was ist mit|wie ist es mit|wie sieht es|gilt das|und was|und wer|und wann|und wie|"
    r"welche(?:r|s)? davon|dazu|außerdem|noch|ab wann|bis wann)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[\wÄÖÜäöüß§/.-]+")
_STOP_CAPS = {"Was", "Wer", "Wie", "Wann", "Welche", "Welcher", "Welches", "Warum", "Wo", "Gibt", "Ist", "Sind",
              "Hat", "Haben", "Kann", "Können", "Muss", "Müssen", "Soll", "Sollen", "Und", "Der", "Die", "Das",
              "Ein", "Eine", "Wir", "Uns", "Unsere", "Unser", "Laut", "Bitte", "Mit", "Für", "Zur", "Zum",
              "Im", "In", "Am", "Auf", "Bei", "Nach", "Gemeinde", "Kommune", "Stadt"}


def is_followup(question: str, history: Sequence[str]) -> bool:
    """True when the question leans on the conversation: starts like one, or points back with few own terms."""
    if not history:
        return False
    if _FOLLOWUP_START.search(question):
        return True
    words = {w.lower() for w in _WORD.findall(question)}
    own_terms = [t for t in tokenize(question) if len(t) > 3]
    return bool(words & _ANAPHORA) and len(own_terms) <= 3


def topic_terms(text: str) -> list[str]:
    """Capitalised nouns, abbreviations, numbers and references of a question, in order, deduplicated."""
    out: list[str] = []
    for w in _WORD.findall(text):
        w = w.strip(".-/")
        if not w or w in _STOP_CAPS:
            continue
        notable = (w[0].isupper() and len(w) > 2) or re.fullmatch(r"\d{4}/\d{1,3}|§|\d+[a-z]?", w)
        if notable and w not in out:
            out.append(w)
    return out


def standalone_query(question: str, history: Sequence[str]) -> str:
    """The question itself when it stands alone; else the question plus the topic of the last turns."""
    if not is_followup(question, history):
        return question
    own = {w.lower() for w in topic_terms(question)}
    carried: list[str] = []
    for earlier in reversed(history[-2:]):
        for t in topic_terms(earlier):
            if t.lower() not in own and t not in carried:
                carried.append(t)
        if carried:
            break  # the most recent turn that has a topic wins
    return f"{question} {' '.join(carried)}".strip()
