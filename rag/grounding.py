"""How well does a text support a question? Weighted query terms and coverage, used by the reranker,
the sentence selector and the refusal decision.

German helps here: nouns are capitalised, and the nouns of a question carry its topic ("Hebesatz",
"Kommunalpakt", "Schwellenwert"), while verbs and particles ("eigentlich", "zukommt") mostly do not.
So a term weighs its IDF, times 1.0 for nouns and abbreviations and NON_NOUN for everything else.
References a question names that no document holds are rag.references' concern.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from rag.expansion import query_expansions
from rag.keyword import BM25Index
from rag.lexicon import STOPWORDS
from rag.terms import words

NON_NOUN = 0.3
PART_SHARE = 0.6  # a compound found only through its parts counts this much
_CODE = re.compile(r"(?=.*\d)(?:[a-zäöüß]+[-/]?\d[\w/-]*|\d{5,}[\w/-]*|\d+[-/]\d+[\w-]*)")
_YEAR_SPAN = re.compile(r"((?:19|20)\d{2})[-–]((?:19|20)\d{2})")  # "2020-2022": years, not a code
_SURFACE = re.compile(r"[^\W_][\w./§-]*", re.UNICODE)
_QUESTION_WORDS = {"was", "wer", "wie", "wann", "welche", "welcher", "welches", "warum", "wo", "wozu",
                   "wieso", "weshalb", "woraus", "wofür", "womit", "wieviel", "wieviele", "gibt", "gilt",
                   "hat", "haben", "ist", "sind", "kann", "können", "muss", "müssen", "darf", "dürfen",
                   "soll", "sollen", "und", "aber", "bitte", "eigentlich", "genau", "überhaupt"}
# words that colour a question but name nothing to look for ("Was kommt da eigentlich auf uns zu?")
_FILLER = {"eigentlich", "überhaupt", "genau", "bitte", "inzwischen", "mal", "denn", "ja", "halt", "eben", "wohl",
           "wissen", "zukommt", "zukommen", "gerne", "gern", "konkret", "etwa", "irgendwas", "irgendwie", "jetzt",
           "nun", "da", "dabei", "dazu", "damit", "so", "also", "kurz", "grob", "demnächst", "bald"}
# the asker describing themselves: "wir als kleine Gemeinde", "uns als Landkreis"
_SELF_ADJ = r"(?:(?:eine?|kleine[rn]?|große[rn]?|kreisangehörige[rn]?|ländliche[rn]?)\s+)*"
_SELF_BODIES = r"gemeinde|stadt|kommune|verwaltung|landkreis|kreis|amt|verbandsgemeinde|samtgemeinde"
_SELF = re.compile(r"\b(?:(?:wir|uns)\s+als|unse?re?[rnms]?)\s+" + _SELF_ADJ + r"(?:" + _SELF_BODIES +
                   r"|stadtverwaltung|gemeindeverwaltung|kreisverwaltung|behörde)\b", re.I)
_SELF_AS = re.compile(r"\b(?:wir|uns)\s+als\s+" + _SELF_ADJ + r"(?:" + _SELF_BODIES + r")\b", re.I)
_WORD = re.compile(r"[\w-]+")


def names_self(question: str) -> bool:
    """Whether the asker describes themselves ("unsere Gemeinde", "wir als kleine Stadt")."""
    return bool(_SELF.search(question))


def search_text(question: str) -> str:
    """The question as the searches should see it: without the asker describing themselves and without
    filler words.

    >>> search_text("Was kommt da eigentlich auf uns als kleine Gemeinde zu?")
    'Was kommt auf zu?'
    >>> search_text("Welche Pflichten hat unsere Gemeinde nach dem EGovG?")
    'Welche Pflichten hat nach dem EGovG?'
    """
    text = _SELF.sub(" ", question)
    text = _WORD.sub(lambda m: "" if m.group(0).lower() in _FILLER else m.group(0), text)
    return re.sub(r"\s+([?.!,])", r"\1", " ".join(text.split()))


@dataclass(frozen=True)
class QTerm:
    surface: str
    stem: str  # the full term ("" when the word has no term of its own)
    parts: tuple[str, ...]
    weight: float
    known: bool
    alts: tuple[frozenset[str], ...] = ()  # other forms: "it-plr" ~ {"it-planungsrat"}, "efa" ~ {"einer", "alle"}


@dataclass
class QueryTerms:
    terms: list[QTerm] = field(default_factory=list)
    unknown_nouns: list[str] = field(default_factory=list)
    unknown_codes: list[str] = field(default_factory=list)  # "TR-02102", "03116-4": named, but in no document
    corrections: dict[str, str] = field(default_factory=dict)  # "Komunalpakt" -> "kommunalpakt"
    # a hyphenated compound's parts together count in full for ranking; the refusal check is stricter
    hyphen_whole: bool = True

    def corrected(self, query: str) -> str:
        """The query for the keyword and the dense search: filler and self-description out, typos'
        corrections appended."""
        query = search_text(query)
        return f"{query} {' '.join(self.corrections.values())}" if self.corrections else query

    @property
    def strongest_unknown(self) -> float:
        """The weight share of the heaviest noun no document contains (0 when all are known)."""
        weights = [t.weight for t in self.terms if not t.known]
        return max(weights, default=0.0) / self.total

    @property
    def total(self) -> float:
        return sum(t.weight for t in self.terms) or 1.0

    def coverage(self, text_terms: AbstractSet[str]) -> float:
        """IDF- and noun-weighted share of the question's terms found in `text_terms` (0..1)."""
        got = 0.0
        for t in self.terms:
            if (t.stem and t.stem in text_terms) or any(alt <= text_terms for alt in t.alts):
                got += t.weight
            elif t.parts:
                share = sum(p in text_terms for p in t.parts) / len(t.parts)
                # a hyphenated compound names its parts ("XBasisdaten-Nachrichten": Nachrichten of XBasisdaten),
                # so all of them together count in full; a closed compound's parts only in part
                whole = (self.hyphen_whole and share == 1.0 and "-" in t.surface
                         and not any(c.isdigit() for c in t.surface))
                got += t.weight * (1.0 if whole else PART_SHARE * share)
        return got / self.total

    def missing(self, text_terms: AbstractSet[str], min_weight: float = 0.0) -> list[QTerm]:
        return [t for t in self.terms if t.weight >= min_weight and t.stem not in text_terms
                and not any(p in text_terms for p in t.parts)]


def _is_noun(surface: str, first: bool) -> bool:
    if surface.lower() in _QUESTION_WORDS or surface.lower() in STOPWORDS:
        return False
    if any(c.isdigit() for c in surface) or surface.startswith("§"):
        return True  # numbers, codes and references are as specific as nouns
    if any(c.isupper() for c in surface[1:]):
        return True  # OZG, EfA, IT-PLR, RegMo, openCode
    return surface[:1].isupper() and not first


def analyse_query(question: str, index: BM25Index, keep_self: bool = False) -> QueryTerms:
    """Weighted terms of a question, typo-tolerant against the index vocabulary. The asker describing
    themselves ("unsere Gemeinde") is left out unless `keep_self`: the refusal check keeps it, because
    "Wie hoch ist der Anteil unserer Gemeinde?" asks for a figure no document holds.

    Words seen in no document are looked up with one edit ("Komunalpakt" -> "kommunalpakt")."""
    out = QueryTerms()
    seen: set[str] = set()
    question = _SELF_AS.sub(" ", question) if keep_self else _SELF.sub(" ", question)
    completed = _completed_truncations(question, index) | _joined_separable_verbs(question, index)
    out.corrections.update(completed)  # the keyword and dense search get "verschlüsselt" too
    for i, m in enumerate(_SURFACE.finditer(question)):
        surface = m.group(0).strip(".-/")
        if not surface or surface.lower() in _FILLER:
            continue
        surface = completed.get(surface, surface)
        first = i == 0 or question[: m.start()].rstrip()[-1:] in {".", "?", "!", ":", ""}
        noun = _is_noun(surface, first)
        for token in words(surface):
            terms = index.analyzer.analyze_word(token)
            if not terms:
                continue
            full = [t.stem for t in terms if not t.part]
            parts = tuple(t.stem for t in terms if t.part)
            stem = full[0] if full else ""
            if stem in seen:
                continue
            seen.add(stem)
            span = _YEAR_SPAN.fullmatch(token)
            years = span.groups() if span and span.group(1) < span.group(2) else ()
            is_code = not years and bool(_CODE.fullmatch(token))
            # a code ("tr-02102") is known only as a whole: its part "tr" says nothing
            known = stem in index.term_ids or (not is_code and any(p in index.term_ids for p in parts))
            if not known and noun and len(stem) >= 6:
                fixed = _near_term(stem, index)
                if fixed:
                    out.corrections[surface] = fixed
                    stem, known = fixed, True
            alts = tuple(
                frozenset(a) for a in (set(index.tokenize(form, parts=False)) for form in query_expansions(surface)) if a
            )
            if years:  # named by its two years ("2020 bis 2022")
                alts += (frozenset(years),)
            if not noun:  # "gelöscht" ~ "Löschfrist", "löschen"; "anbieten" ~ "… anzubieten"
                alts += tuple(frozenset({v}) for v in (_participle_stem(token, index), _zu_form(token, index)) if v)
            if alts and not known:  # "Standesamt" is known as "Personenstandsregister"
                known = any(all(x in index.term_ids for x in alt) for alt in alts)
            if not known and noun:
                out.unknown_nouns.append(surface)
                if is_code:
                    out.unknown_codes.append(surface)
            idf = index.idf(stem) if stem else max((index.idf(p) for p in parts), default=0.0)
            if alts:  # an abbreviation weighs what its rarest written-out form weighs
                idf = min(idf, max(min(index.idf(x) for x in alt) for alt in alts))
            weight = idf * (1.0 if noun else NON_NOUN)
            if not known:
                weight *= 0.5  # a word of no document: a typo or a colloquialism more often than a topic
            out.terms.append(QTerm(surface, stem, parts, weight, known, alts))
    return out


# "ver- und entschlüsselt", "Schadensersatz- und Entschädigungsansprüche": the first word is cut short
_TRUNCATED = re.compile(r"(?<![\w-])([^\W\d_]{2,})-\s+(?:und|oder|bzw\.|sowie)\s+([^\W\d_]{5,})")
_VERB_PREFIXES = ("über", "unter", "nach", "zer", "ver", "ent", "ein", "auf", "aus", "vor", "mit", "be", "er", "ab",
                  "an", "zu")


def _completed_truncations(question: str, index: BM25Index) -> dict[str, str]:
    """The words a question cuts short before "und"/"oder", completed from the word after it.

    >>> from rag.keyword import BM25Index
    >>> idx = BM25Index.build(["Daten werden verschlüsselt.", "Schadensersatzansprüche sind ausgeschlossen. Ansprüche."])
    >>> _completed_truncations("Wo wird ver- und entschlüsselt? Gibt es Schadensersatz- oder Entschädigungsansprüche?", idx)
    {'ver': 'verschlüsselt', 'Schadensersatz': 'Schadensersatzansprüche'}
    """
    out: dict[str, str] = {}
    for m in _TRUNCATED.finditer(question):
        head, full = m.groups()
        if head.lower() in _VERB_PREFIXES:  # "ver- und entschlüsselt": the second word's prefix is replaced
            prefix = next((p for p in _VERB_PREFIXES if full.lower().startswith(p) and len(full) - len(p) >= 4), None)
            if prefix:
                out[head] = head + full[len(prefix):]
            continue
        # "Schadensersatz- und Entschädigungsansprüche": the longest known tail of the second word is shared
        for k in range(len(full) - 3, 3, -1):
            tail = full[-k:]
            if tail[0].isalpha() and _known_stem(tail.lower(), index):
                out[head] = head + tail.lower()
                break
    return out


# a separable verb split in a clause: "Wir schreiben … aus", "Wer wählt die Projekte aus?", "Wie läuft … ab?"
_PARTICLE_END = re.compile(r"(?<![\w-])(ab|an|auf|aus|bei|bereit|dar|ein|fest|fort|frei|her|hin|los|mit|nach|vor|"
                           r"weg|weiter|wieder|zurück|zusammen)\s*(?=[?.!,;:–—]|\s+-\s|\s+(?:und|oder)\b|\s*$)", re.I)
_CLAUSE_BREAK = re.compile(r"[?.!,;:–—]|\s-\s|\b(?:und|oder)\b", re.I)


def _joined_separable_verbs(question: str, index: BM25Index) -> dict[str, str]:
    """The verbs a question splits from their particle, joined as the documents write them: "schreiben …
    aus" -> "ausschreiben" (as in "Ausschreibung"), "wählt … aus" -> "auswählen" ("Auswahl").

    >>> from rag.keyword import BM25Index
    >>> idx = BM25Index.build(["Die Ausschreibung der Software.", "Die Auswahl der Projekte.", "Der Ablauf eines Antrags."])
    >>> _joined_separable_verbs("Wir schreiben eine neue Software aus – gibt es Hilfen?", idx)
    {'schreiben': 'ausschreiben'}
    >>> _joined_separable_verbs("Wer wählt die Projekte denn aus?", idx), _joined_separable_verbs("Wie läuft ein Antrag ab?", idx)
    ({'wählt': 'auswählen'}, {'läuft': 'abläufen'})
    >>> _joined_separable_verbs("Was steht da drin, und wer hängt da mit dran?", idx)
    {}
    """
    out: dict[str, str] = {}
    for m in _PARTICLE_END.finditer(question):
        particle = m.group(1).lower()
        start = max((b.end() for b in _CLAUSE_BREAK.finditer(question, 0, m.start())), default=0)
        # the finite verb opens the clause ("Läuft …") or follows its first word ("Wer wählt …")
        for i, w in enumerate(_WORD.findall(question[start : m.start()])[:3]):
            low = w.lower()
            if not low.isalpha() or low in _QUESTION_WORDS or i and w[:1].isupper():
                continue
            forms = [particle + low]
            if low.endswith(("t", "st")):  # "wählt" -> "auswählen", before "ablauft" (of "Frist abläuft")
                forms.insert(0, particle + low[: -2 if low.endswith("st") else -1] + "en")
            joined = next((f for f in forms if _known_stem(f, index)), None)
            if joined:
                out[w] = joined
                break
    return out


_PARTICIPLE = re.compile(r"ge([a-zäöüß]{4,}?)(?:e?t)")


def _participle_stem(token: str, index: BM25Index) -> str | None:
    """The verb stem of a weak past participle, when documents use it: 'gelöscht' -> 'losch' (as in
    'löschen', 'Löschfrist'), 'gespeichert' -> 'speich'. None for other words.

    >>> from rag.keyword import BM25Index
    >>> _participle_stem("gelöscht", BM25Index.build(["Daten sind zu löschen.", "Die Löschfrist beträgt 10 Tage."]))
    'losch'
    """
    m = _PARTICIPLE.fullmatch(token)
    if not m:
        return None
    return _known_stem(m.group(1), index)


# separable verb prefixes: "anbieten" has the zu-infinitive "anzubieten", "zustellen" has "zuzustellen"
_SEPARABLE = re.compile(r"(ab|an|auf|aus|bei|bereit|dar|durch|ein|fest|fort|frei|her|hin|los|mit|nach|offen|"
                        r"teil|um|vor|weg|weiter|wieder|zu|zurück|zusammen)(zu)?([a-zäöüß]{4,}en)")


def _zu_form(token: str, index: BM25Index) -> str | None:
    """The other infinitive of a separable verb, when documents use it: 'anbieten' -> 'anzubiet' (as in
    '… sind verpflichtet, … anzubieten'), 'anzubieten' -> 'anbiet'. None for other words.

    >>> from rag.keyword import BM25Index
    >>> idx = BM25Index.build(["Bund und Länder sind verpflichtet, ihre Leistungen anzubieten.", "Daten austauschen."])
    >>> _zu_form("anbieten", idx), _zu_form("auszutauschen", idx), _zu_form("bieten", idx)
    ('anzubiet', 'austausch', None)
    """
    m = _SEPARABLE.fullmatch(token.lower())
    if not m:
        return None
    prefix, zu, rest = m.groups()
    return _known_stem(prefix + rest if zu else prefix + "zu" + rest, index)


def _known_stem(word: str, index: BM25Index) -> str | None:
    """The stem of `word` as a whole (not its compound parts), when some document has it."""
    stems = [t.stem for t in index.analyzer.analyze_word(word) if not t.part]
    return stems[0] if stems and stems[0] in index.term_ids else None


def _near_term(stem: str, index: BM25Index) -> str | None:
    cands = index.terms_by_prefix.get(stem[:2], ())
    near = [c for c in cands if abs(len(c) - len(stem)) <= 1 and _edit1(stem, c)]
    # the most frequent neighbour: "komunalpakt" means the common "kommunalpakt", not a rare variant
    return max(near, key=lambda c: int(index.doc_freq[index.term_ids[c]]), default=None)


def _edit1(a: str, b: str) -> bool:
    """True when a and b differ by at most one insertion, deletion, substitution or transposition."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :] or (a[i + 2 :] == b[i + 2 :] and a[i : i + 2] == b[i : i + 2][::-1])
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[i + 1 :] == shorter[i:]
