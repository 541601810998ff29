"""rag.sanitize: hostile answer text never renders as HTML, images or unknown links."""

from __future__ import annotations

import re

import pytest

from rag.sanitize import sanitize_answer

SOURCE = "https://www.it-planungsrat.de/beschluesse/beschluss-2023-02"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ""),
        ("Der IT-Planungsrat beschließt [1].", "Der IT-Planungsrat beschließt [1]."),
        ("Gemäß § 1a OZG gilt Folgendes [2][3].", "Gemäß § 1a OZG gilt Folgendes [2][3]."),
        ("- Punkt eins [1]\n- Punkt zwei [2]\n\n1. Äußerst übel öffentlich", None),
        ("Text ![logo](https://evil.example/track.png) weiter", "Text weiter"),
        ("![](data:image/png;base64,AAAA)", ""),
        ("[x](javascript:alert(1))", "x"),
        ("[x](javascript:alert((1)))", "x"),
        ("[x]( JavaScript:alert(document.cookie) )", "x"),
        ("[x](&#106;avascript:alert(1))", "x"),
        ("[x](<javascript:alert(1)>)", "x"),
        ("[x](vbscript:msgbox(1))", "x"),
        ("[x](data:text/html;base64,PHNjcmlwdD4=)", "x"),
        ("[klick hier](https://evil.example/phish)", "klick hier"),
        ("[1](https://evil.example/)", "[1]"),
        ("[[2]](https://evil.example/)", "[2]"),
        ("[a [b](https://evil.example/b)](https://evil.example/a)", "a b"),
        ("[![img](https://evil.example/i.png)](https://evil.example/)", ""),
        ("Siehe https://evil.example/x?a=1&b=2.", "Siehe ."),
        ("Siehe www.evil.example/pfad und mehr", "Siehe und mehr"),
        ("Siehe <https://evil.example/>.", "Siehe &lt;&gt;."),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("<a href='javascript:alert(1)'>x</a>", "&lt;a href=''&gt;x&lt;/a&gt;"),
        ("<<script>script>", "&lt;&lt;script&gt;script&gt;"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("&#60;img src=x onerror=alert(1)&#62;", "&#60;img src=x onerror=alert(1)&#62;"),
        ("Klick: javascript:alert(1) bitte", "Klick: bitte"),
        ("[1]: javascript:alert(1)\nText [1]", "[1] : \nText [1]"),
        ("[1]: https://evil.example/\nText [1]", "[1] : \nText [1]"),
        ("Open Data: ein Portal [1]", "Open Data: ein Portal [1]"),
        ("a\x00b", "ab"),
    ],
)
def test_hostile_inputs(raw: str, expected: str | None) -> None:
    out = sanitize_answer(raw)
    assert out == (raw if expected is None else expected)
    _assert_safe(out)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (f"Quelle: {SOURCE}.", f"Quelle: {SOURCE}."),
        (f"[Beschluss 2023/02]({SOURCE})", f"[Beschluss 2023/02]({SOURCE})"),
        (f'[Beschluss]({SOURCE} "Titel")', f"[Beschluss]({SOURCE})"),
        (f"({SOURCE})", f"({SOURCE})"),
        (f"![Bild]({SOURCE})", ""),  # an allowed URL still never renders as an image
        (f"[x]({SOURCE}/../evil)", "x"),
        (f"{SOURCE}-fake.example", ""),
    ],
)
def test_allowed_source_url_is_kept(raw: str, expected: str) -> None:
    assert sanitize_answer(raw, allowed_urls=[SOURCE]) == expected


@pytest.mark.parametrize("bad", ["javascript:alert(1)", 'https://a.de/"><script>', "ftp://a.de/x", ""])
def test_unsafe_entries_in_allowed_urls_are_ignored(bad: str) -> None:
    out = sanitize_answer(f"[x]({bad})", allowed_urls=[bad])
    _assert_safe(out)
    assert "(" not in out or "javascript" not in out


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "Ä ö ü ß § 3 [1]\n\n* Liste\n  - eingerückt",
        "<b>x</b> [1](javascript:alert(1)) https://evil.example/ ![a](b)",
        f"[Quelle]({SOURCE}) und {SOURCE} [2]",
        "&amp; &lt; [1]: x",
    ],
)
def test_idempotent(raw: str) -> None:
    once = sanitize_answer(raw, allowed_urls=[SOURCE])
    assert sanitize_answer(once, allowed_urls=[SOURCE]) == once


def test_newlines_and_indentation_survive() -> None:
    raw = "Antwort:\n\n- erstens [1]\n  - zweitens [2]\n\nEnde."
    assert sanitize_answer(raw) == raw


def _assert_safe(out: str) -> None:
    assert "<" not in out and ">" not in out
    assert not re.search(r"!\[[^\]]*\]\(", out)
    assert not re.search(r"(?i)(javascript|vbscript|data):\S", out)
    assert "evil.example" not in out
