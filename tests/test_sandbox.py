"""The parse sandbox's zygote: one process that imported the parsers forks a fresh, limited child per file.
The result must equal the single-shot child's (`python -m ingest.sandbox ROOT PATH`), a hanging parse must
still end at the timeout, and a zygote that died is replaced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hostile import SLOW, slow_markdown

from ingest import sandbox
from ingest.loaders import parse_file
from rag.errors import LoaderError
from rag.settings import Settings

PROJECT = Path(__file__).resolve().parents[1]
TEXT = "# Kommunalpakt\n\nDer IT-Planungsrat stimmt den Eckpunkten zum Kommunalpakt zu. Er bittet das Land Hessen.\n"


def single_shot(root: Path, path: Path) -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-m", "ingest.sandbox", "--memory-mb", "2048", str(root), str(path)],
                          capture_output=True, cwd=PROJECT, timeout=120, check=True,
                          env={**os.environ, "PYTHONPATH": str(PROJECT)})
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def test_files_are_parsed_by_forks_of_one_zygote_with_the_single_shot_result(tmp_path: Path) -> None:
    sandbox.close_zygotes()
    (tmp_path / "a.md").write_text(TEXT, encoding="utf-8")
    (tmp_path / "b.md").write_text(TEXT.replace("Hessen", "Bayern"), encoding="utf-8")
    settings = Settings(parse_memory_mb=2048)
    first = sandbox.run_parse(tmp_path / "a.md", tmp_path, settings)
    assert len(sandbox._IDLE) == 1
    zygote_pid = sandbox._IDLE[0].proc.pid
    second = sandbox.run_parse(tmp_path / "b.md", tmp_path, settings)
    assert [z.proc.pid for z in sandbox._IDLE] == [zygote_pid]  # reused, not started again
    assert first == single_shot(tmp_path, tmp_path / "a.md")
    assert second == single_shot(tmp_path, tmp_path / "b.md")


def test_a_hanging_parse_is_killed_and_the_next_file_still_parses(tmp_path: Path) -> None:
    (tmp_path / SLOW).parent.mkdir(parents=True)
    slow_markdown(tmp_path / SLOW)
    (tmp_path / "ok.md").write_text(TEXT, encoding="utf-8")
    with pytest.raises(LoaderError) as err:
        parse_file(tmp_path / SLOW, tmp_path, Settings(parse_timeout=2))
    assert err.value.reason == "timeout"
    assert "Kommunalpakt" in parse_file(tmp_path / "ok.md", tmp_path, Settings()).chunks[0].text


def test_a_dead_zygote_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "ok.md").write_text(TEXT, encoding="utf-8")
    parse_file(tmp_path / "ok.md", tmp_path, Settings())
    dead = sandbox._IDLE[0]
    dead.proc.kill()
    dead.proc.wait()
    assert parse_file(tmp_path / "ok.md", tmp_path, Settings()).chunks
    assert dead not in sandbox._IDLE and len(sandbox._IDLE) == 1



def test_a_parser_process_that_cannot_run_is_a_skip_not_a_crash(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ok.md").write_text(TEXT, encoding="utf-8")
    sandbox.close_zygotes()
    monkeypatch.setattr(sandbox.sys, "executable", "/bin/false")  # every zygote exits at once
    with pytest.raises(LoaderError) as err:
        parse_file(tmp_path / "ok.md", tmp_path, Settings())
    assert err.value.reason == "corrupt" and "parser process" in err.value.detail
    monkeypatch.undo()
    sandbox.close_zygotes()
    assert parse_file(tmp_path / "ok.md", tmp_path, Settings()).chunks
