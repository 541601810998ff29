"""Parse one file in a child process with a wall-clock timeout and an address-space limit.

No parser we use has limits of its own: pypdf has a history of infinite loops and memory bombs, and a 60 MB
text file or a hostile HTML page costs the Markdown/HTML rules as much time and memory as it likes. So the
parent never parses a file itself: it runs `python -m ingest.sandbox --memory-mb N --max-chunks M --cpu-seconds S ROOT FILE`,
which turns the file into pages, chunks and warnings (`ingest.loaders.parse_in_process`) and prints them as
JSON on stdout, or {"error": reason, "detail": ...}. Whatever the child does, the parent gets a result or a
LoaderError within settings.parse_timeout seconds.

>>> run_parse(Path("missing.pdf"), Path("."), Settings())  # doctest: +SKIP
Traceback (most recent call last):
rag.errors.LoaderError: corrupt: ...
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import resource
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from rag.errors import LoaderError
from rag.settings import Settings

log = logging.getLogger(__name__)

_PROJECT_ROOT = Path(__file__).resolve().parents[1]
_FATAL_SIGNALS = {signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT}


def run_parse(path: Path, root: Path, settings: Settings) -> dict[str, Any]:
    """The child's JSON result for `path` (see `ingest.loaders.ParsedFile`); raises LoaderError."""
    cmd = [
        sys.executable,
        "-m",
        "ingest.sandbox",
        "--memory-mb",
        str(settings.parse_memory_mb),
        "--max-chunks",
        str(settings.max_chunks_per_file),
        "--cpu-seconds",
        str(math.ceil(settings.parse_timeout) + 5),
        str(root.absolute()),
        str(path.absolute()),
    ]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PROJECT_ROOT), env.get("PYTHONPATH")) if p)
    try:
        # subprocess.run kills the child when the timeout expires
        proc = subprocess.run(
            cmd,
            capture_output=True,
            timeout=settings.parse_timeout,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise LoaderError("timeout", f"parsing took longer than {settings.parse_timeout:g} s") from exc
    stderr = proc.stderr.decode("utf-8", "replace")
    for line in stderr.splitlines()[-20:]:
        log.debug("parser child: %s", line)
    result = _decode(proc.stdout)
    if result is None:
        raise _failure(proc.returncode, stderr)
    if "error" in result:
        raise LoaderError(str(result["error"]), str(result.get("detail", "")))
    return result


def read_regular_file(path: Path) -> bytes:
    """The bytes of `path`, refusing a symlink (swapped in after discovery) and anything but a regular file
    (a FIFO or a device would block or never end).

    >>> read_regular_file(Path("/dev/zero"))
    Traceback (most recent call last):
    rag.errors.LoaderError: corrupt: zero: not a regular file
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if os.path.islink(path):
            raise LoaderError("symlink", f"{path.name}: a symbolic link") from exc
        raise LoaderError("corrupt", f"{path.name}: cannot read ({exc.strerror})") from exc
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LoaderError("corrupt", f"{path.name}: not a regular file")
        return fh.read()


def classify(exc: BaseException) -> tuple[str, str]:
    """(LoaderError reason, detail) for an exception raised while parsing.

    >>> classify(MemoryError())
    ('too large', 'memory limit reached while parsing')
    >>> classify(RecursionError("maximum recursion depth exceeded"))
    ('corrupt', 'nested too deeply')
    """
    name = type(exc).__name__
    detail = str(exc)[:300]
    if (
        isinstance(exc, MemoryError)
        or "failed to map segment" in detail
        or "Cannot allocate memory" in detail
    ):
        return "too large", "memory limit reached while parsing"
    if isinstance(exc, RecursionError):
        return "corrupt", "nested too deeply"
    if name in {"FileNotDecryptedError", "WrongPasswordError"}:
        return "encrypted", detail or "password required"
    if name == "DependencyError":
        return "encrypted", f"cannot decrypt: {detail}"
    if name == "EmptyFileError":
        return "empty", detail
    if name == "LimitReachedError":  # pypdf's guard against decompression bombs and huge arrays
        return "too large", detail
    return "corrupt", f"{name}: {detail}"


def _decode(stdout: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(stdout.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _failure(returncode: int, stderr: str) -> LoaderError:
    if returncode == -signal.SIGXCPU:
        return LoaderError("timeout", "parser ran out of CPU time")
    if returncode < 0 and -returncode in _FATAL_SIGNALS:
        name = signal.Signals(-returncode).name
        return LoaderError("too large", f"parser killed by {name} (memory limit?)")
    if any(s in stderr for s in ("MemoryError", "failed to map segment", "Cannot allocate memory")):
        return LoaderError("too large", "memory limit reached while parsing")
    last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit code {returncode}"
    return LoaderError("corrupt", last[:300])


def _limit_cpu(seconds: int) -> None:
    """The kernel ends the child after `seconds` of CPU time even when nobody waits for it any more (the
    ingest was killed with -9 and its wall-clock timeout died with it)."""
    if seconds > 0:
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        limit = seconds if hard == resource.RLIM_INFINITY else min(seconds, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (limit, hard))


def _limit_memory(megabytes: int) -> None:
    if megabytes <= 0:
        return
    limit = megabytes * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(argv: list[str] | None = None) -> int:
    """Child entry point: print the parsed file or {"error": reason, "detail": ...} as JSON.

    >>> main(["--memory-mb", "1024", "--cpu-seconds", "125", "corpus", "corpus/a.md"])  # doctest: +SKIP
    0
    """
    parser = argparse.ArgumentParser(prog="python -m ingest.sandbox", description=__doc__)
    parser.add_argument("--memory-mb", type=int, default=0)
    parser.add_argument("--max-chunks", type=int, default=Settings.max_chunks_per_file)
    parser.add_argument("--cpu-seconds", type=int, default=0)
    parser.add_argument("root")
    parser.add_argument("path")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr, format="%(name)s: %(message)s")
    try:
        _limit_memory(args.memory_mb)
        _limit_cpu(args.cpu_seconds)
        from ingest.loaders import parse_in_process  # after the limit: importing costs memory too

        settings = Settings(parse_memory_mb=args.memory_mb, max_chunks_per_file=args.max_chunks)
        result: dict[str, Any] = parse_in_process(Path(args.path), Path(args.root), settings).to_json()
    except LoaderError as exc:
        result = {"error": exc.reason, "detail": exc.detail}
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # every failure becomes a reason the parent understands
        reason, detail = classify(exc)
        result = {"error": reason, "detail": detail}
    sys.stdout.buffer.write(json.dumps(result).encode("ascii"))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
