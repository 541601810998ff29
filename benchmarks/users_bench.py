"""Many users at once: N `gradio_client` users ask the real app on loopback for a fixed time — one run.

Usage: python benchmarks/users_bench.py [--index DATA_DIR] [--users 20] [--duration 60]
                                        [--questions eval/sets/dev.jsonl] [--out benchmarks/results/users_bench.md]

`--index` is a data dir holding an index of ../shared/corpus (default: the one `make eval` builds,
data/eval/<corpus>/ours-e5-torch). Its `index/` is copied into a temp data dir first, so the run never writes
to it. Then `python app.py` starts with RAG_DATA_DIR at the copy and GRADIO_SERVER_PORT on a free loopback
port; every user gets its own `gradio_client.Client` (one browser session each) and asks dev-set questions
(never test/blind) through the `/ask` API one after another, with the item's history, until the time is up
(questions begun before then are waited for). Per request: latency, and the outcome: an answer, the German
busy message (HTTP 429 with ui.blocks.BUSY_TEXT, what a full queue gives), or an error (anything else).
Also: the app's peak RSS (VmHWM), its start-up time, queue-full lines in its log.
Writes one Markdown section to `--out` with the issue's targets (p95 <= 3 s, 0 errors) as rows; the
benchmark reports, it never fails on seconds. The clients run on the same machine as the app.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from benchlib import cpu_model, write_section  # noqa: E402  (benchmarks/benchlib.py: the script's folder)

from ui.blocks import CONCURRENCY, QUEUE_MAX, busy_reply  # noqa: E402

TARGET_P95_S = 3.0
TARGET_ERRORS = 0
HELD_OUT = ("test", "test2", "blind")


@dataclass
class Request:
    user: int
    started: float
    latency: float
    outcome: str  # "answer" | "refused" | "busy" | "error"
    detail: str = ""


@dataclass
class Run:
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, req: Request) -> None:
        with self.lock:
            self.requests.append(req)


def load_questions(path: Path) -> list[tuple[str, list[str]]]:
    if any(part in path.name.lower() for part in HELD_OUT):
        raise SystemExit(f"{path}: only the dev set may be used for tuning and load (never test or blind)")
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                item = json.loads(line)
                out.append((str(item["question"]), [str(h) for h in item.get("history") or []]))
    if not out:
        raise SystemExit(f"no questions in {path}")
    return out


def default_index() -> Path:
    from eval.harness import default_data_dir

    return default_data_dir(PROJECT.parent / "shared" / "corpus") / "ours-e5-torch"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def machine() -> dict[str, str]:
    return {"nproc": str(os.cpu_count()), "cpu": cpu_model()}


def loadavg() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set (VmHWM) in MB, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def models_dir() -> Path:
    """Where the converted model already is (never convert it again into the temp data dir)."""
    from eval.harness import base_data_dir

    return Path(os.environ.get("RAG_MODEL_DIR") or base_data_dir() / "models").resolve()


def start_app(data_dir: Path, port: int, log_path: Path) -> tuple[subprocess.Popen[bytes], float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADIO_") and k != "RAG_DATA_DIR"}
    env.update({"RAG_DATA_DIR": str(data_dir), "RAG_MODEL_DIR": str(models_dir()), "GRADIO_SERVER_PORT": str(port),
                "GRADIO_ANALYTICS_ENABLED": "False",
                "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(PROJECT)})
    t0 = time.monotonic()
    log = open(log_path, "wb")  # noqa: SIM115 - the child writes it until it ends
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"app exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback
                if resp.status == 200:
                    return proc, time.monotonic() - t0
        except OSError:
            pass
        if time.monotonic() - t0 > 300:
            proc.kill()
            raise SystemExit(f"app did not answer on {url} within 300 s")
        time.sleep(0.5)


def ask_once(client: Any, question: str, history: list[str]) -> tuple[str, str]:
    try:
        result = client.predict(question=question, history=history, api_name="/ask")
    except Exception as exc:  # noqa: BLE001 - every failure is classified and counted
        return ("busy", "") if busy_reply(exc) else ("error", f"{type(exc).__name__}: {exc}"[:300])
    if not isinstance(result, dict) or result.get("error"):
        return "error", repr(result)[:300]
    return ("refused" if result.get("refused") else "answer"), ""


def user_loop(n: int, client: Any, questions: list[tuple[str, list[str]]], t_start: float, t_end: float,
              run: Run) -> None:
    order = list(range(len(questions)))
    random.Random(n).shuffle(order)  # every user its own order: the app sees many different questions at once
    i = 0
    while time.monotonic() < t_end:
        question, history = questions[order[i % len(order)]]
        i += 1
        t0 = time.monotonic()
        outcome, detail = ask_once(client, question, history)
        run.add(Request(n, t0 - t_start, time.monotonic() - t0, outcome, detail))


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def report(args: argparse.Namespace, run: Run, info: dict[str, Any]) -> str:
    reqs = run.requests
    served = [r.latency for r in reqs if r.outcome in ("answer", "refused")]
    counts = {k: sum(r.outcome == k for r in reqs) for k in ("answer", "refused", "busy", "error")}
    p50, p95, mx = pct(served, 50), pct(served, 95), (max(served) if served else float("nan"))
    per_user = [sum(r.user == u for r in reqs) for u in range(args.users)]
    m = machine()
    lines = [
        "## Many users: gradio_client against the running app (users_bench.py)",
        "",
        f"How measured: `python app.py` on 127.0.0.1 (data dir: a copy of `{info['index']}`, "
        f"{info['documents']} documents, {info['chunks']} chunks, embedder {info['model']}), "
        f"{args.users} `gradio_client.Client` users in threads, each asking `/ask` one question after another "
        f"({len(info['questions'])} questions of `{args.questions.as_posix()}` with their history, every user "
        f"in its own order) for {args.duration:g} s; one warm-up question before the clock started. Latency: "
        "from `predict` called to the answer received, over answered questions (a busy reply is counted, not "
        f"timed). App queue: {QUEUE_MAX} places, {CONCURRENCY} answering at once. The clients run on the same "
        "machine as the app and share its CPUs.",
        "",
        f"Machine: {m['nproc']} CPUs, {m['cpu']}; load average (1/5/15 min) at start {info['load_start']}, "
        f"at end {info['load_end']}; {info['date']}. App start-up until the page answered: "
        f"{info['startup_s']:.1f} s; the warm-up question (loads the index version): {info['warm_s']:.1f} s "
        f"({info['warm_outcome']}).",
        "",
        "| figure | value |",
        "|---|---|",
        f"| requests (begun within {args.duration:g} s) | {len(reqs)} ({len(reqs) / info['wall_s']:.2f}/s over "
        f"{info['wall_s']:.1f} s) |",
        f"| answered / refused (no source found) | {counts['answer']} / {counts['refused']} |",
        f"| German busy message (HTTP 429) | {counts['busy']} |",
        f"| errors | {counts['error']} |",
        f"| latency p50 / p95 / max | {p50:.2f} s / {p95:.2f} s / {mx:.2f} s |",
        f"| requests per user min / max | {min(per_user)} / {max(per_user)} |",
        f"| app peak RSS (VmHWM) | {info['rss_mb']:.0f} MB |" if info["rss_mb"] else "| app peak RSS | n/a |",
        f"| queue-full lines in the app log | {info['queue_full_logged']} |",
        "",
        "| target | figure | met/missed |",
        "|---|---|---|",
        f"| p95 <= {TARGET_P95_S:g} s | {p95:.2f} s | {'met' if p95 <= TARGET_P95_S else 'missed'} |",
        f"| errors = {TARGET_ERRORS} | {counts['error']} | {'met' if counts['error'] == TARGET_ERRORS else 'missed'} |",
        f"| a full queue gives the German busy message, never an error | {counts['busy']} busy, {counts['error']} "
        f"errors | {'met' if counts['error'] == 0 else 'missed'}"
        f"{' (the queue never filled in this run; see tests/test_app_client.py)' if not counts['busy'] else ''} |",
        "",
    ]
    errors = [r.detail for r in reqs if r.outcome == "error"]
    if errors:
        lines += ["First errors:", "", *(f"- `{e}`" for e in errors[:5]), ""]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--index", type=Path, help="data dir with an index of ../shared/corpus (only read)")
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds in which questions are begun")
    ap.add_argument("--questions", type=Path, default=PROJECT / "eval" / "sets" / "dev.jsonl")
    ap.add_argument("--out", type=Path, default=PROJECT / "benchmarks" / "results" / "users_bench.md")
    args = ap.parse_args()
    questions = load_questions(args.questions)
    source = args.index or default_index()
    if not (source / "index" / "CURRENT").exists():
        raise SystemExit(f"no index at {source}: run `make eval` (or pass --index DATA_DIR)")
    from gradio_client import Client

    with tempfile.TemporaryDirectory(prefix="users-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        shutil.copytree(source / "index", data_dir / "index", symlinks=True)
        current = (data_dir / "index" / "CURRENT").read_text().strip()
        manifest = json.loads((data_dir / "index" / "versions" / current / "manifest.json").read_text())
        log_path = Path(tmp) / "app.log"
        port = free_port()
        proc, startup = start_app(data_dir, port, log_path)
        url = f"http://127.0.0.1:{port}/"
        try:
            clients = [Client(url, verbose=False) for _ in range(args.users)]
            warm = time.monotonic()
            outcome, detail = ask_once(clients[0], *questions[0])
            warm_s = time.monotonic() - warm
            print(f"warm-up: {outcome} in {warm_s:.1f} s {detail}", file=sys.stderr)
            run = Run()
            load_start = loadavg()
            t_start = time.monotonic()
            t_end = t_start + args.duration
            threads = [threading.Thread(target=user_loop, args=(n, c, questions, t_start, t_end, run),
                                        name=f"user-{n}", daemon=True) for n, c in enumerate(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - t_start
            load_end = loadavg()
            rss = peak_rss_mb(proc.pid)
            for c in clients:
                c.close()
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        queue_full = log_path.read_text(errors="replace").count("queue full")
    info = {
        "index": source, "documents": len(manifest.get("files", {})), "chunks": manifest.get("chunks"),
        "model": manifest.get("model"), "questions": questions, "load_start": load_start, "load_end": load_end,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "startup_s": startup, "wall_s": wall,
        "rss_mb": rss, "queue_full_logged": queue_full, "warm_s": warm_s, "warm_outcome": outcome,
    }
    write_section(args.out, report(args, run, info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
