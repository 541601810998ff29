"""Parse one file in a child process with a wall-clock timeout and an address-space limit.

No parser we use has limits of its own: pypdf has a history of infinite loops and memory bombs, and a 60 MB
text file or a hostile HTML page costs the Markdown/HTML rules as much time and memory as it likes. So the
parent never parses a file itself: it runs `python -m ingest.sandbox --memory-mb N --max-chunks M --cpu-seconds S ROOT FILE`,
which turns the file into pages, chunks and warnings (`ingest.loaders.parse_in_process`) and prints them as
JSON on stdout, or {"error": reason, "detail": ...}. Whatever the child does, the parent gets a result or a
LoaderError within settings.parse_timeout seconds.

Starting Python and importing the parsers costs ~0.2 s, as much as parsing a typical file, so the parent
keeps a *zygote* per concurrent parse (`python -m ingest.sandbox --serve`): a process that has imported the
parsers once and forks a fresh child per file. The child sets its limits right after the fork, parses and
writes its JSON into a pipe; the zygote relays it with the child's exit status. The limits, the timeout and
the child-per-file isolation stay exactly as before; only the start-up is paid once per ingest.

>>> run_parse(Path("missing.pdf"), Path("."), Settings())  # doctest: +SKIP
Traceback (most recent call last):
rag.errors.LoaderError: corrupt: ...
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import logging
import math
import os
import resource
import select
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from rag.errors import LoaderError
from rag.settings import Settings

log = logging.getLogger(__name__)

_PROJECT_ROOT = Path(__file__).resolve().parents[1]
_FATAL_SIGNALS = {signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT}


def run_parse(path: Path, root: Path, settings: Settings) -> dict[str, Any]:
    """The child's JSON result for `path` (see `ingest.loaders.ParsedFile`); raises LoaderError."""
    request = {
        "root": str(root.absolute()),
        "path": str(path.absolute()),
        "memory_mb": settings.parse_memory_mb,
        "max_chunks": settings.max_chunks_per_file,
        "cpu_seconds": math.ceil(settings.parse_timeout) + 5,
    }
    zygote = _take_zygote()
    try:
        code, payload = zygote.parse(request, settings.parse_timeout)
    except _ZygoteGone:
        zygote.close()  # it died between two files (or never started): one more try with a fresh one
        zygote = Zygote()
        try:
            code, payload = zygote.parse(request, settings.parse_timeout)
        except _ZygoteGone as exc:
            raise LoaderError("corrupt", "the parser process ended unexpectedly") from exc
    finally:
        _give_back(zygote)
    if code is None:
        raise LoaderError("timeout", f"parsing took longer than {settings.parse_timeout:g} s")
    result = _decode(payload)
    if result is None:
        raise _failure(code, "")
    if "error" in result:
        raise LoaderError(str(result["error"]), str(result.get("detail", "")))
    return result


class _ZygoteGone(Exception):
    """The zygote process is not there (any more)."""


_EXIT_NO_MEMORY = 3  # a child that ran out of memory even while reporting it


class Zygote:
    """`python -m ingest.sandbox --serve`: has imported the parsers, forks one limited child per request.

    Protocol on its stdin/stdout: one JSON request line in (with "timeout" in seconds); when the child ended,
    a line {"code": exit code, "timeout": killed for time?, "length": n} and n bytes of its output."""

    def __init__(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PROJECT_ROOT), env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ingest.sandbox", "--serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, bufsize=0,
        )
        self._buf = b""

    def parse(self, request: dict[str, Any], timeout: float) -> tuple[int | None, bytes]:
        """(child's exit code, its output); exit code None when it ran past `timeout` and was killed."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps({**request, "timeout": timeout}).encode() + b"\n")
        except (BrokenPipeError, OSError) as exc:
            raise _ZygoteGone() from exc
        deadline = time.monotonic() + timeout + 30  # the zygote itself ends the child at `timeout`
        try:
            head = json.loads(self._line(deadline))
        except TimeoutError:  # the zygote hangs: never reuse it
            self.close()
            return None, b""
        if head.get("timeout"):
            return None, b""
        return int(head["code"]), self._bytes(int(head["length"]), time.monotonic() + 30)

    def _fill(self, deadline: float) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError
        data = os.read(fd, 1 << 20)
        if not data:
            raise _ZygoteGone()
        self._buf += data

    def _line(self, deadline: float) -> bytes:
        while b"\n" not in self._buf:
            self._fill(deadline)
        line, self._buf = self._buf.split(b"\n", 1)
        return line

    def _bytes(self, n: int, deadline: float) -> bytes:
        while len(self._buf) < n:
            self._fill(deadline)
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


_IDLE: list[Zygote] = []
_IDLE_LOCK = threading.Lock()


def _take_zygote() -> Zygote:
    with _IDLE_LOCK:
        while _IDLE:
            z = _IDLE.pop()
            if z.proc.poll() is None:
                return z
            z.close()
    return Zygote()


def _give_back(z: Zygote) -> None:
    if z.proc.poll() is not None or z._buf:  # dead, or out of step with its protocol: never reuse
        z.close()
        return
    with _IDLE_LOCK:
        _IDLE.append(z)


def close_zygotes() -> None:
    """End the idle zygotes (after an ingest: a long-running app should not keep them)."""
    with _IDLE_LOCK:
        idle, _IDLE[:] = list(_IDLE), []
    for z in idle:
        z.close()


atexit.register(close_zygotes)


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
    if returncode == _EXIT_NO_MEMORY:
        return LoaderError("too large", "memory limit reached while parsing")
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


def _parse_here(root: str, path: str, memory_mb: int, max_chunks: int, cpu_seconds: int) -> dict[str, Any]:
    """Set the limits, then parse `path`: the JSON result or {"error": reason, "detail": ...}."""
    try:
        _limit_memory(memory_mb)
        _limit_cpu(cpu_seconds)
        from ingest.loaders import parse_in_process  # after the limit: importing costs memory too

        settings = Settings(parse_memory_mb=memory_mb, max_chunks_per_file=max_chunks)
        result: dict[str, Any] = parse_in_process(Path(path), Path(root), settings).to_json()
    except LoaderError as exc:
        result = {"error": exc.reason, "detail": exc.detail}
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # every failure becomes a reason the parent understands
        reason, detail = classify(exc)
        result = {"error": reason, "detail": detail}
    return result


def _child(request: dict[str, Any], out_fd: int) -> None:
    """In the forked child: parse, write the JSON to `out_fd`, never return."""
    code = 0
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # the zygote's protocol pipes are not the parser's business
            os.dup2(devnull, fd)
        result = _parse_here(request["root"], request["path"], int(request["memory_mb"]),
                             int(request["max_chunks"]), int(request["cpu_seconds"]))
        data = json.dumps(result).encode("ascii")
        view = memoryview(data)
        while view:
            view = view[os.write(out_fd, view):]
    except MemoryError:
        code = _EXIT_NO_MEMORY
    except BaseException:
        code = 1
    os._exit(code)


def serve(stdin: IO[bytes], stdout: IO[bytes]) -> int:
    """The zygote's loop: one forked, limited child per request line, until stdin closes."""
    import ingest.loaders  # noqa: F401  (imported once here, inherited by every child)

    for line in stdin:
        request = json.loads(line)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            _child(request, w)
        os.close(w)
        deadline = time.monotonic() + float(request["timeout"])
        chunks: list[bytes] = []
        timed_out = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)  # our own unreaped child: the pid cannot belong to anyone else
                timed_out = True
                break
            data = os.read(r, 1 << 20)
            if not data:
                break
            chunks.append(data)
        os.close(r)
        _, status = os.waitpid(pid, 0)
        payload = b"" if timed_out else b"".join(chunks)
        head = {"code": os.waitstatus_to_exitcode(status), "timeout": timed_out, "length": len(payload)}
        stdout.write(json.dumps(head).encode() + b"\n" + payload)
        stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Child entry point: print the parsed file or {"error": reason, "detail": ...} as JSON; with --serve,
    the zygote (see `Zygote`).

    >>> main(["--memory-mb", "1024", "--cpu-seconds", "125", "corpus", "corpus/a.md"])  # doctest: +SKIP
    0
    """
    parser = argparse.ArgumentParser(prog="python -m ingest.sandbox", description=__doc__)
    parser.add_argument("--serve", action="store_true", help="zygote mode: requests on stdin, see Zygote")
    parser.add_argument("--memory-mb", type=int, default=0)
    parser.add_argument("--max-chunks", type=int, default=Settings.max_chunks_per_file)
    parser.add_argument("--cpu-seconds", type=int, default=0)
    parser.add_argument("root", nargs="?")
    parser.add_argument("path", nargs="?")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr, format="%(name)s: %(message)s")
    if args.serve:
        return serve(sys.stdin.buffer, sys.stdout.buffer)
    if not (args.root and args.path):
        parser.error("ROOT and PATH are required (or --serve)")
    result = _parse_here(args.root, args.path, args.memory_mb, args.max_chunks, args.cpu_seconds)
    sys.stdout.buffer.write(json.dumps(result).encode("ascii"))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
