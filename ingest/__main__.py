"""`python -m ingest PATH... [--data-dir DIR] [--dry-run] [--rebuild] [--workers N]` — re-ingest a folder safely.

Exit codes: 0 everything ingested, 1 some files skipped (see the report), 2 error, 3 another ingest is running.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from pathlib import Path
from typing import Any

import rag  # noqa: F401  (offline environment first)
from ingest.pipeline import IngestReport, ProgressEvent, ingest
from rag.errors import IngestLockedError, RagError
from rag.sanitize import printable
from rag.settings import Settings

log = logging.getLogger("ingest")

HELP = """\
Dokumente in den Suchindex übernehmen (inkrementell und sicher).
Ingest documents into the search index (incremental and safe).

Nur geänderte Dateien werden neu eingebettet, gelöschte entfernt; der laufende Index bleibt bis
zum fertigen, geprüften Umschalten unverändert.
Only changed files are re-embedded, deleted files are removed; the live index stays untouched until
the new version is complete, verified and switched.

Exit codes: 0 ok, 1 some files skipped, 2 error, 3 another ingest is running."""


class _Bars:
    """tqdm bars over files and chunks, with ETA; quiet when stderr is not a terminal unless forced."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bars: dict[str, object] = {}

    def __call__(self, ev: ProgressEvent) -> None:
        if not self.enabled or ev.stage == "done":
            return
        from tqdm import tqdm

        labels = STAGE_LABELS
        bar = self.bars.get(ev.stage)
        if bar is None:
            for other in self.bars.values():
                other.close()  # type: ignore[attr-defined]
            bar = tqdm(total=ev.total, desc=labels.get(ev.stage, ev.stage), unit=STAGE_UNITS.get(ev.stage, ""),
                       file=sys.stderr, dynamic_ncols=True, leave=True)
            self.bars[ev.stage] = bar
        bar.total = ev.total  # type: ignore[attr-defined]
        bar.n = ev.done  # type: ignore[attr-defined]
        if ev.detail:
            bar.set_postfix_str(printable(ev.detail)[:60], refresh=False)  # type: ignore[attr-defined]
        bar.refresh()  # type: ignore[attr-defined]

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()  # type: ignore[attr-defined]


STAGE_LABELS = {"scan": "Dateien prüfen", "parse": "Dateien lesen", "embed": "Abschnitte einbetten",
                "store": "Index schreiben", "verify": "Prüfen"}
# what a stage counts; the detail says more: files read so far with their chunks, chunks and sentences embedded
STAGE_UNITS = {"scan": " Dateien", "parse": " Dateien", "embed": " Texte", "store": " Abschnitte"}


class LogLines:
    """Progress as plain log lines for a log file (stderr not a terminal): one line per stage, then one
    per 10 % or 15 s, with percent, the time still needed and the stage's detail (files, chunks, sentences).

    >>> from ingest.pipeline import ProgressEvent
    >>> clock = iter([0.0, 30.0]).__next__
    >>> lines = LogLines(clock=clock, emit=print)
    >>> lines(ProgressEvent("embed", 0, 200)); lines(ProgressEvent("embed", 50, 200, "Abschnitte 20/40, Sätze 30/160"))
    Abschnitte einbetten: 0/200 (0 %)
    Abschnitte einbetten: 50/200 (25 %), noch etwa 1 min 30 s – Abschnitte 20/40, Sätze 30/160
    """

    def __init__(self, clock: Any = None, emit: Any = None) -> None:
        import time

        self.clock = clock or time.monotonic
        self.emit = emit or logging.getLogger("ingest.progress").info
        self.stage = ""
        self.stage_start = 0.0
        self.last_time = 0.0
        self.last_pct = -100.0

    def __call__(self, ev: ProgressEvent) -> None:
        if ev.stage == "done":
            return
        now = self.clock()
        pct = 100.0 * ev.done / ev.total if ev.total else 0.0
        if ev.stage != self.stage:
            self.stage, self.stage_start, self.last_time, self.last_pct = ev.stage, now, now, pct
        elif pct - self.last_pct < 10 and now - self.last_time < 15 and ev.done != ev.total:
            return
        else:
            self.last_time, self.last_pct = now, pct
        line = f"{STAGE_LABELS.get(ev.stage, ev.stage)}: {ev.done}/{ev.total} ({pct:.0f} %)"
        elapsed = now - self.stage_start
        if 0 < ev.done < ev.total and elapsed > 0:
            line += f", noch etwa {_duration(elapsed / ev.done * (ev.total - ev.done))}"
        if ev.detail:
            line += f" – {printable(ev.detail)}"
        self.emit(line)

    def close(self) -> None:
        pass


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60} min {s % 60} s" if s >= 60 else f"{s} s"


def format_report(r: IngestReport) -> str:
    """The report for a terminal: file names with control characters escaped (an ESC in a name must not
    reach the screen raw); the JSON report and the index keep the real names."""
    lines = [
        "",
        "== Ingest-Bericht / ingest report ==",
        f"Ordner / root:            {printable(r.root)}",
        f"Neu / added:              {len(r.added)}",
        f"Geändert / changed:       {len(r.changed)}",
        f"Entfernt / removed:       {len(r.removed)}",
        f"Unverändert / unchanged:  {len(r.unchanged)}",
        f"Abschnitte / chunks:      {r.chunks_total} ({r.chunks_embedded} neu eingebettet / embedded, "
        f"{r.chunks_reused} wiederverwendet / reused)",
        f"Sätze / sentences:        {r.sentences_embedded} neu eingebettet / embedded",
        f"Übersprungen / skipped:   {len(r.skipped)}",
    ]
    lines += [f"  - {printable(f)}: {reason}" for f, reason in r.skipped]
    if r.warnings:
        lines.append(f"Warnungen / warnings:     {len(r.warnings)} (trotzdem übernommen / ingested all the same)")
        lines += [f"  - {printable(f)}: {printable(w)}" for f, w in r.warnings]
    if r.dry_run:
        lines.append("Probelauf / dry run: nichts geschrieben / nothing written")
    elif r.switched:
        lines.append(f"Neue Index-Version live / new version live: {r.version}")
    else:
        lines.append(f"Index unverändert / index unchanged: {r.version}")
    lines.append(f"Dauer / elapsed:          {r.elapsed:.1f} s")
    return "\n".join(lines)


# C1 controls and bidi/format characters pass through json.dumps(ensure_ascii=False) unescaped
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def json_for_terminal(data: object) -> str:
    """JSON with umlauts kept but every character that could steer a terminal written as a \\u escape.

    >>> print(json_for_terminal({"file": "\x1b[31m\x9b\u202e.md"}))
    {
     "file": "\\u001b[31m\\u009b\\u202e.md"
    }
    """
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


class _PrintableFormatter(logging.Formatter):
    """Log lines with control characters escaped, whatever a message quotes from a file name or text."""

    def format(self, record: logging.LogRecord) -> str:
        return "\n".join(printable(line) for line in super().format(record).split("\n"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest", description=HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", type=Path, help="Ordner oder Dateien / folders or files")
    parser.add_argument("--data-dir", type=Path, help="Datenordner / data dir (default: $RAG_DATA_DIR or ./data)")
    parser.add_argument("--dry-run", action="store_true", help="nur anzeigen, was sich ändern würde / only report")
    parser.add_argument("--rebuild", action="store_true", help="alles neu aufbauen / rebuild everything")
    parser.add_argument("--json", action="store_true", help="Bericht als JSON / report as JSON on stdout")
    parser.add_argument("--progress", choices=["auto", "always", "never"], default="auto")
    parser.add_argument("--workers", type=int, default=1,
                        help="Dateien parallel lesen und einbetten / parse and embed in N worker processes "
                             "(default 1; about one per 2-4 cores)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(_PrintableFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, handlers=[handler])
    try:
        settings = Settings.from_env(data_dir=args.data_dir)
    except RagError as exc:
        print(f"Fehler in der Konfiguration: {exc}", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("--workers muss mindestens 1 sein / must be at least 1", file=sys.stderr)
        return 2
    show = args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())
    # a log file (`make run > log 2>&1`) gets plain progress lines instead of bars
    if args.progress == "auto" and not show:
        logging.getLogger("ingest.progress").setLevel(logging.INFO)
    bars: _Bars | LogLines = _Bars(True) if show else LogLines() if args.progress == "auto" else _Bars(False)
    try:
        report = ingest(args.paths, settings, dry_run=args.dry_run, rebuild=args.rebuild, on_progress=bars,
                        workers=args.workers)
    except IngestLockedError as exc:
        print(f"Es läuft bereits ein Ingest für diesen Datenordner; bitte später erneut versuchen.\n{exc}",
              file=sys.stderr)
        return 3
    except FileNotFoundError as exc:
        print(f"Datei oder Ordner nicht gefunden / not found: {exc}", file=sys.stderr)
        return 2
    except RagError as exc:
        log.error("ingest failed, live index unchanged: %s", exc)
        print(f"Ingest fehlgeschlagen, der bisherige Index bleibt unverändert: {exc}", file=sys.stderr)
        return 2
    finally:
        bars.close()
    if args.json:
        print(json_for_terminal(report.to_json()))
    else:
        print(format_report(report))
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
