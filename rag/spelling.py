"""Casing and spelling are the user's, not the corpus's: a question is written the way the documents write it.

Staff type fast: in lower case, with ae/oe/ue/ss for umlauts, with a typo. The rest of the answerer reads a
capital letter as a noun or a name, and matches words as the documents spell them, so a question is first
rewritten word by word against the corpus's own vocabulary (nothing here is a hand-made list of words):

1. **truecasing**: in a question typed without capitals (none after its first word), a word the documents
   write capitalised in mid-sentence, such as a noun or an abbreviation ("ozg" -> "OZG", "kommunalpakt" ->
   "Kommunalpakt"), gets their spelling; a user who capitalises keeps their casing;
2. **umlauts**: a word the documents do not contain, or write out far less often than with umlauts, whose
   ae/oe/ue/ss spelling is that of one they do contain gets theirs ("gebuehren" -> "Gebühren", "massnahme" ->
   "Maßnahme");
3. **typos**: a word of five or more letters that neither the documents nor a general German word list
   (pyspellchecker's, shipped in its package) contain, one edit (a letter dropped, added, changed, or two
   neighbours swapped) away from words the documents contain, becomes the most frequent of those
   ("Komunalpakt" -> "Kommunalpakt"); "wollte" stays "wollte" although the documents only say "sollte";
4. **the German word list** for a word the documents lack: its umlauts ("waehlt" -> "wählt"), else its most
   frequent neighbour one edit away ("beazhlt" -> "bezahlt", "Stanedsamt" -> "Standesamt", umlauts typed out
   allowed: "schleagt" -> "schlägt"). The documents need not hold a word for its typo to cost: the embedding
   reads the typo, and a noun no document holds counts against answering at all.

>>> v = Vocabulary.from_texts(["Der IT-Planungsrat hat den Kommunalpakt beschlossen. Die Gebühren steigen.",
...                            "Laut OZG gilt der Kommunalpakt. Im Kommunalpakt steht es."])
>>> v.correct("was hat der it-planungsrat zum komunalpakt und den gebuehren laut ozg beschlossen").text
'was hat der IT-Planungsrat zum Kommunalpakt und den Gebühren laut OZG beschlossen'

A word the documents type out now and then is still spelt as they mostly spell it:

>>> Vocabulary.from_texts(["Thüringen, Thüringen, Thüringen, Thüringen, Thüringen und Thueringen"]).correct(
...     "Wer ist der CIO von Thueringen?").text
'Wer ist der CIO von Thüringen?'
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

_WORD = re.compile(r"[^\W\d_]+")
_ADDRESS = re.compile(  # web and mail addresses, without a sentence's closing punctuation
    r"(?:\S+@|https?://|www\.|\b[\w-]+(?:\.[\w-]+)*\.(?:de|com|org|net|eu|info)\b)[^\s]*?(?=[.,;:!?)]?(?:\s|$))", re.I
)
_SENTENCE_START = re.compile(r"(?:^|[.!?:;•*#>|]|\n)[\s\"„“'(\[]*$")
_UMLAUTS = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}  # how they are typed without a German keyboard
_FOLD = str.maketrans(_UMLAUTS)
MIN_TYPO_LENGTH = 5  # shorter words have too many neighbours one edit away
MIN_TYPO_COUNT = 1  # a correction may be any word the documents use
LOWER_CASE_NOUN_MAX = 100  # a word German text writes in lower case more often than this is no noun
LIST_FLOOR = 50  # the count pyspellchecker's German list gives every word it saw rarely in lower case
RARE_SPELLING = 5  # a word typed out is spelt with umlauts when the documents write that this many times as often
MIN_CASE_SHARE = 0.6  # truecasing needs the documents to write a word that way most of the time


@cache
def german_frequencies() -> dict[str, int]:
    """Lower-case German words of pyspellchecker's frequency list (340k words, in its package, no download)
    with how often they occur written in lower case; empty when the package is missing, which only makes typo
    correction bolder. A noun is rarely written in lower case: its count sits at the list's floor (50)."""
    try:
        data = (resources.files("spellchecker") / "resources" / "de.json.gz").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError):
        return {}
    return {str(k): int(v) for k, v in json.loads(gzip.decompress(data)).items()}


def german_words() -> frozenset[str] | dict[str, int]:
    """The words of `german_frequencies` (membership only)."""
    return german_frequencies()


@cache
def _nouns() -> object | None:
    try:
        from german_nouns.lookup import Nouns
    except ImportError:
        return None
    return Nouns()


def is_noun(word: str) -> bool:
    """Is `word` (any case) a German noun or a compound ending in one, by Wiktionary's noun list (the
    german-nouns package ships it)? For words the documents never use, typed in lower case.

    >>> is_noun("bußgelder"), is_noun("hundesteuerbescheid"), is_noun("schnell"), is_noun("einsetzen")
    (True, True, False, False)
    """
    nouns = _nouns()
    # common words written in lower case ('wie', 'hoch', 'geld') are no noun here, whatever Wiktionary lists
    if nouns is None or len(word) < 3 or german_frequencies().get(word.lower(), 0) > LOWER_CASE_NOUN_MAX:
        return False
    cap = word[:1].upper() + word[1:].lower()
    try:
        entries = nouns[cap]  # type: ignore[index]
        if entries:
            # 'Einsetzen' is listed, but typed in lower case it is the verb: a noun that is its own lemma
            # and ends in -en is a verb used as a noun
            return not all(e.get("lemma") == cap and cap.endswith("en") for e in entries)
        if word.lower() in german_frequencies():  # a known word that is no listed noun
            return False
        parts = nouns.parse_compound(cap)  # type: ignore[attr-defined]
        return len(parts) > 1 and all(len(p) >= 4 for p in parts)
    except (KeyError, IndexError, ValueError):
        return False


def fold(word: str) -> str:
    """Lower case with umlauts and ß spelt out: the key under which 'Gebühren' and 'gebuehren' meet.

    >>> fold("Maßnahmen"), fold("Gebuehren")
    ('massnahmen', 'gebuehren')
    """
    return word.casefold().translate(_FOLD)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance <= 1 (a swap of two neighbours counts as one edit).

    >>> within_one_edit("rgeelt", "regelt"), within_one_edit("regeln", "regelt"), within_one_edit("ab", "ba")
    (True, True, True)
    >>> within_one_edit("kommune", "kommunal")
    False
    """
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long_ = (a, b) if la < lb else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


_ALPHABET = "abcdefghijklmnopqrstuvwxyzäöüß"
_UNFOLD = tuple((typed, umlaut) for umlaut, typed in _UMLAUTS.items() if umlaut != "ß")  # "ss" is often right


def _edits(word: str) -> set[str]:
    """Every string one edit from `word`: a letter deleted, two neighbours swapped, replaced or inserted."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
    out |= {a + c + b for a, b in splits for c in _ALPHABET}
    return out


def _capitalised(word: str) -> str:
    return word[:1].upper() + word[1:]


def _unfold(word: str) -> str:
    for typed, umlaut in _UNFOLD:
        word = word.replace(typed, umlaut)
    return word


def lexicon_spelling(key: str) -> tuple[str, str] | None:
    """How the German word list (`german_frequencies`) writes `key`, a word it does not hold, with the kind of
    change: ("wählt", "umlaut") for 'waehlt'; else the most frequent word one edit away, umlauts typed out
    allowed, as a "typo" ('schleagt' -> 'schlägt'); None when there is none or the two most frequent tie.

    >>> lexicon_spelling("waehlt"), lexicon_spelling("beazhlt"), lexicon_spelling("schleagt")
    (('wählt', 'umlaut'), ('bezahlt', 'typo'), ('schlägt', 'typo'))
    >>> lexicon_spelling("fokusleistungen") is None
    True
    """
    freq = german_frequencies()
    spelt = _unfold(key)
    if spelt != key and spelt in freq:
        return spelt, "umlaut"
    # the list counts words written in lower case and floors its counts: a word at the floor is a noun (which
    # the noun lexicon tells) or too rare to overrule what was typed ('wieviel' is no typo of 'wievielt')
    found: dict[str, int] = {}
    for cand in _edits(key):
        for form in {cand, _unfold(cand)}:
            n = freq.get(form)
            if n and (n > LIST_FLOOR or is_noun(form)):
                found[form] = n
    ranked = sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0], "typo"


@dataclass(frozen=True)
class Change:
    kind: str  # "case", "umlaut" or "typo"
    typed: str
    written: str


@dataclass(frozen=True)
class Correction:
    text: str
    changes: tuple[Change, ...] = ()


@dataclass
class Vocabulary:
    """How the documents write each word: its usual mid-sentence spelling and how often it occurs."""

    forms: dict[str, str] = field(default_factory=dict)  # lower case -> usual spelling
    shares: dict[str, float] = field(default_factory=dict)  # lower case -> share of the usual spelling
    counts: Counter[str] = field(default_factory=Counter)  # lower case -> occurrences
    folded: dict[str, str] = field(default_factory=dict)  # fold() -> lower case of the most frequent such word
    deletions: dict[str, list[str]] = field(default_factory=dict)  # a word less one letter -> words

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Vocabulary:
        counts: Counter[str] = Counter()
        spellings: dict[str, Counter[str]] = defaultdict(Counter)
        in_compounds: dict[str, Counter[str]] = defaultdict(Counter)
        for raw in texts:
            text = _ADDRESS.sub(" ", raw)  # 'kommune21.de' says nothing about how 'Kommune' is written
            for m in _WORD.finditer(text):
                word = m.group()
                key = word.lower()
                counts[key] += 1
                # a capital at the start of a sentence or list item says nothing about the word; one that opens
                # a hyphenated compound ('Online-Ausweis') counts only for words never written alone ('IT-')
                if _SENTENCE_START.search(text[max(0, m.start() - 8) : m.start()]):
                    continue
                (in_compounds if text[m.end() : m.end() + 1] == "-" else spellings)[key][word] += 1
        forms, shares = {}, {}
        for key in counts:
            seen = spellings.get(key) or in_compounds.get(key)
            if seen:
                form, n = seen.most_common(1)[0]
                forms[key], shares[key] = form, n / sum(seen.values())
            else:
                forms[key], shares[key] = key, 1.0
        folded: dict[str, str] = {}
        for key in sorted(counts, key=lambda k: -counts[k]):
            folded.setdefault(fold(key), key)
        deletions: dict[str, list[str]] = defaultdict(list)
        for key, n in counts.items():
            if n >= MIN_TYPO_COUNT and len(key) >= MIN_TYPO_LENGTH - 1:
                for d in _deletes(key):
                    deletions[d].append(key)
        return cls(forms, shares, counts, folded, dict(deletions))

    def __contains__(self, word: str) -> bool:
        return word.lower() in self.counts

    def _typo(self, key: str) -> str | None:
        """The most frequent known word one edit away from an unknown one (None when there is none or a tie)."""
        found: set[str] = set()
        for probe in (key, *_deletes(key)):
            found.update(w for w in self.deletions.get(probe, ()) if within_one_edit(w, key))
        if key in self.counts:
            return None
        ranked = sorted(found, key=lambda w: -self.counts[w])
        if not ranked or (len(ranked) > 1 and self.counts[ranked[0]] == self.counts[ranked[1]]):
            return None
        return ranked[0]

    def _truecase(self, key: str) -> str:
        """How the documents usually write a word in mid-sentence, if they clearly do; a German word is never
        written in capitals only (technical guidelines write 'MÜSSEN' as a keyword)."""
        usual = self.forms[key]
        if self.shares[key] < MIN_CASE_SHARE or (usual.isupper() and len(usual) > 3 and key in german_words()):
            return key
        return usual

    def _spell(self, word: str, truecase: bool) -> tuple[str, str | None]:
        key = word.lower()
        # typed out where the documents write umlauts: a word they lack (its count is 0), or one they type out
        # far less often ('thueringen' twice, in an address the address filter missed; 'thüringen' 14 times)
        spelt = self.folded.get(fold(key), key)
        if spelt != key and self.counts[spelt] >= RARE_SPELLING * self.counts[key]:
            return self._match_case(word, self._truecase(spelt), truecase), "umlaut"
        if key in self.counts:
            usual = self._truecase(key)
            if truecase and word.islower() and usual != word:
                return usual, "case"
            return word, None
        # a word with inner capitals is a name or an abbreviation the documents may just not use
        if len(word) >= MIN_TYPO_LENGTH and not any(c.isupper() for c in word[1:]) and key not in german_words():
            near = self._typo(key)
            if near is not None:
                return self._match_case(word, self._truecase(near), truecase), "typo"
            found = lexicon_spelling(key)
            if found is not None:  # a word the documents lack, typed out or with a typo ('beazhlt')
                fixed = self._match_case(word, found[0], truecase)
                return (_capitalised(fixed) if truecase and is_noun(fixed) else fixed), found[1]
        if truecase and word.islower() and is_noun(word):
            return _capitalised(word), "case"
        return word, None

    @staticmethod
    def _match_case(typed: str, usual: str, truecase: bool) -> str:
        """The documents' letters in the user's casing; in a question typed without capitals, theirs."""
        if truecase:
            return usual
        if typed[:1].isupper() and usual[:1].islower():
            return _capitalised(usual)
        if typed[:1].islower() and usual[:1].isupper() and not usual.isupper():
            return usual[:1].lower() + usual[1:]
        return usual

    def correct(self, text: str) -> Correction:
        """`text` with each word spelt as the documents spell it (see the module docstring)."""
        if not self.counts:
            return Correction(text)
        changes: list[Change] = []
        out: list[str] = []
        last = 0
        words = list(_WORD.finditer(text))
        truecase = not any(m.group()[:1].isupper() for m in words[1:])
        for m in words:
            written, kind = self._spell(m.group(), truecase)
            out.append(text[last : m.start()])
            out.append(written)
            last = m.end()
            if kind is not None:
                changes.append(Change(kind, m.group(), written))
        out.append(text[last:])
        return Correction("".join(out), tuple(changes))
