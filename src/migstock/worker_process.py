"""A helper process of one run: started early, warmed up, and quick to end.

Great Expectations and the data brief each work in a process of their own (see
:mod:`migstock.validation_worker`, :mod:`migstock.brief.worker`): their imports then
happen on the other core while the run does something else, and their memory stays
out of the run's main process.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

#: how much a helper process yields the CPU when the run's main process or the
#: Prefect server it waits for want it too (0: not at all, 19: always). While a new
#: Prefect database is created (on one CPU, about 8 s) the helpers import and
#: validate; yielding, they let the server be ready sooner. First loads of the six
#: official workbooks, 3 runs each (scripts/benchmark.py --section e2e): 16.0-19.2 s
#: (mean 17.9) with 0, 15.7-17.1 s (mean 16.4) with 10; with Prefect's database
#: already created, 15.4 s on average either way.
NICENESS = 10


def start(warm_up: Callable[[], None]) -> ProcessPoolExecutor:
    """A pool of one process that starts now and runs ``warm_up`` (a module-level
    function) first. Spawned, so no state of this process (Prefect's, a lock) is copied."""
    pool = ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_initialize,
        initargs=(warm_up,),
    )
    pool.submit(int)  # a first task makes the pool start its process
    return pool


def _initialize(warm_up: Callable[[], None]) -> None:
    end_without_teardown(lambda: 0)
    if hasattr(os, "nice"):
        os.nice(NICENESS)
    warm_up()


def end_without_teardown(exit_code: Callable[[], int]) -> None:
    """When this process exits, end it without tearing its interpreter down.

    Python frees every module and object at exit: about 0.9 s for Great Expectations'
    (a run waits for its worker to exit), half a second for a command that imported
    Prefect and pandas. Registered first, this handler runs after every other exit
    handler (and after the threads were joined and the pools' queues delivered every
    result): it flushes the standard streams and ends the process with
    ``exit_code()``. Only the freeing is skipped. Never call it in a test process.
    """

    def end() -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exit_code())

    atexit.register(end)
