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
