"""Wall-clock seconds per stage of one run, for ``scripts/benchmark.py``.

Stages add up their time (a stage may run once per file or revision); marks are
moments (``time.time()``, comparable across processes). Nothing is printed: with
``MIGSTOCK_TIMINGS=FILE`` in the environment the command line writes both to FILE
as JSON when it exits.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

ENVIRONMENT_VARIABLE = "MIGSTOCK_TIMINGS"
_seconds: dict[str, float] = {}
_marks: dict[str, float] = {}


def add(stage: str, seconds: float) -> None:
    _seconds[stage] = _seconds.get(stage, 0.0) + seconds


def mark(moment: str) -> None:
    """Remember when ``moment`` happened (the last time, if it happens again)."""
    _marks[moment] = time.time()


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Time the block as (part of) stage ``name``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        add(name, time.perf_counter() - start)


def snapshot() -> dict[str, dict[str, float]]:
    return {"seconds": dict(_seconds), "marks": dict(_marks)}


def _write() -> None:
    target = os.environ.get(ENVIRONMENT_VARIABLE)
    if target:
        Path(target).write_text(json.dumps(snapshot(), indent=1), encoding="utf-8")


def write_at_exit() -> None:
    """Write the totals to ``$MIGSTOCK_TIMINGS`` when the process exits (if set)."""
    if os.environ.get(ENVIRONMENT_VARIABLE):
        atexit.register(_write)
