"""Robustness variants of a question set, made by code: the same questions typed as staff type them.

    lower     lower case, no punctuation ("wann tritt das ozg in kraft")
    umlauts   umlauts and ß typed as ae/oe/ue/ss ("Gebuehren", "Massnahme")
    typo      one typo in one content word (two inner letters swapped, chosen by a hash of the item id)
    history   a standalone question asked after an unrelated earlier question in the same chat

Each variant keeps an item's id, gold facts and sources, so its figures compare item for item with the clean
set's. Every function is deterministic: the same set gives the same variant on every machine.

>>> item = {"id": "x", "question": "Wann gilt die Änderung für Gemeinden?", "history": []}
>>> lower([item])[0]["question"], umlauts([item])[0]["question"]
('wann gilt die änderung für gemeinden', 'Wann gilt die Aenderung fuer Gemeinden?')
>>> typo([item])[0]["question"] != item["question"]
True
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Any

Item = dict[str, Any]

_PUNCT = re.compile(r"[?!,;:\"„“”‚‘’«»()\[\]]|(?<=[^\W\d_])\.(?=\s|$)")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})
_WORD = re.compile(r"[^\W\d_]{6,}")  # content words: 6+ letters, no digits
_FUNCTION_WORDS_TEXT = (
    "welche welcher welches werden wurden worden sollen müssen können dürfen eigentlich inzwischen "
    "zwischen welchen gegenüber darüber deshalb trotzdem nochmal wollen wissen sollte hatten haben"
)
_FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split())


def _digest(*parts: str) -> int:
    return int(hashlib.sha256("\x1f".join(parts).encode()).hexdigest(), 16)


def _lower_text(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", text).lower().split())


def lower(items: Sequence[Item]) -> list[Item]:
    """Every question and history turn in lower case, without punctuation (dates and § keep their dots)."""
    return [
        {
            **d,
            "question": _lower_text(d["question"]),
            "history": [_lower_text(h) for h in d.get("history") or []],
        }
        for d in items
    ]


def umlauts(items: Sequence[Item]) -> list[Item]:
    """ä/ö/ü/ß typed as ae/oe/ue/ss, in the question and the history."""
    return [
        {
            **d,
            "question": d["question"].translate(_UMLAUTS),
            "history": [h.translate(_UMLAUTS) for h in d.get("history") or []],
        }
        for d in items
    ]


def add_typo(text: str, key: str) -> str:
    """Swap two neighbouring inner letters of one content word (chosen by `key`); unchanged without one.

    >>> add_typo("Was regelt das Onlinezugangsgesetz?", "k")
    'Was rgeelt das Onlinezugangsgesetz?'
    >>> add_typo("Wer ist das?", "k")
    'Wer ist das?'
    """
    words = [
        m
        for m in _WORD.finditer(text)
        if m.group().lower() not in _FUNCTION_WORDS and not m.group().isupper()
    ]
    if not words:
        return text
    h = _digest(key, text)
    word = words[h % len(words)]
    w = word.group()
    candidates = [i for i in range(1, len(w) - 2) if w[i] != w[i + 1]]
    if not candidates:
        return text
    i = candidates[(h // len(words)) % len(candidates)]
    new = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    return text[: word.start()] + new + text[word.end() :]


def typo(items: Sequence[Item]) -> list[Item]:
    """One typo in one content word of each question (the history is left as typed)."""
    return [{**d, "question": add_typo(d["question"], d["id"])} for d in items]


def _files(item: Item) -> set[str]:
    return {s["file"] if isinstance(s, dict) else str(s) for s in item.get("sources") or []}


_TOKEN = re.compile(r"[^\W\d_]{3,}")
_STOP_TEXT = (
    "was wer wie wann wo welche welcher welches der die das den dem des ein eine einer und oder für über "
    "mit von zum zur bei hat haben wird werden wurde ist sind gibt uns wir ihr sie nach seit auch noch "
    "eigentlich inzwischen kann können muss müssen soll sollen darf dürfen nicht denn dazu"
)
_STOP = frozenset(_STOP_TEXT.split())


def _topic(item: Item) -> set[str]:
    """Five-letter prefixes of the question's words: two questions sharing none are on other topics."""
    return {w.lower()[:5] for w in _TOKEN.findall(item["question"]) if w.lower() not in _STOP}


def history(items: Sequence[Item]) -> list[Item]:
    """Each standalone question asked after another item's question on other documents (a new topic).

    The earlier question is the first one, starting half the set away, that is standalone and shares neither
    a gold source file nor a content word with the item; follow-ups keep their own history.
    """
    out = []
    n = len(items)
    for i, d in enumerate(items):
        if d.get("history") or n < 2:
            out.append(dict(d))
            continue
        earlier = None
        for step in range(n // 2, n // 2 + n):
            other = items[(i + step) % n]
            if (
                other is not d
                and not other.get("history")
                and not (_files(other) & _files(d))
                and not (_topic(other) & _topic(d))
            ):
                earlier = other
                break
        out.append({**d, "history": [earlier["question"]] if earlier else []})
    return out


VARIANTS: dict[str, Callable[[Sequence[Item]], list[Item]]] = {
    "lower": lower,
    "umlauts": umlauts,
    "typo": typo,
    "history": history,
}
