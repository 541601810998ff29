"""The examples in the modules' docstrings are tests too (they document the German edge cases)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import eval as eval_pkg
import ingest
import rag
import ui

MODULES = sorted(
    [
        m.name
        for pkg in (rag, ingest, eval_pkg, ui)
        for m in pkgutil.walk_packages(pkg.__path__, prefix=f"{pkg.__name__}.")
        if not m.name.endswith(".__main__")
    ]
    + ["ingest.__main__"]  # the progress lines for log files
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctests failed in {name}"
