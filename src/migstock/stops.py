"""How a run ends early: a signal (Ctrl-C, SIGTERM) or the disk saying no, in one line.

A run that is stopped publishes nothing half-written: the store's pointer either still
names the old version (the unfinished version folder is removed on the way out) or
already names the new one. :func:`migstock.store.published_version` tells which, so the
one line can say so.

A library may lose the :class:`Stopped` a signal raised: DuckDB runs the handler while
it waits for a query (``PyErr_CheckSignals``) and then replaces the pending exception
with ``RuntimeError: Query interrupted``. So the handler also records the signal, and
the stop is recognised by that record, not by the exception that arrives:
:func:`stoppable` ends its block with :class:`Stopped` whatever became of it, and a
handler that turns any error into an outcome (a rejected file, a page not written)
calls :func:`raise_if_stopped` first.
"""

from __future__ import annotations

import errno
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from migstock.store import published_version

#: exit codes of a run stopped by a signal: 128 + the signal's number, as shells report
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Stopped(BaseException):
    """The run was asked to stop (a BaseException, like KeyboardInterrupt: no handler of
    ordinary errors catches it on the way out)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


#: the signals received in the running :func:`stoppable` block, in the order they came
_received: list[int] = []


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise Stopped(signum)


def pending() -> Stopped | None:
    """The stop a signal asked for in the running :func:`stoppable` block (the first
    signal), even if the exception its handler raised was lost; None if none came."""
    return Stopped(_received[0]) if _received else None


def raise_if_stopped() -> None:
    """Raise :class:`Stopped` if a signal came in the running :func:`stoppable` block.

    For handlers that turn any error into an outcome of one file or by-product: the
    error they caught may be what a library made of the stop (``Query interrupted``),
    and a stop must end the run, not become a rejected file or a warning."""
    stop = pending()
    if stop is not None:
        raise stop


@contextmanager
def stoppable() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Stopped` in the main thread while the block runs.

    A block that a signal interrupted ends with :class:`Stopped` in every case: when the
    exception the handler raised arrives as something else (DuckDB's ``RuntimeError:
    Query interrupted``, or an error raised while cleaning up after it), and when it
    was swallowed on the way (then as soon as the block ends)."""
    previous = {sig: signal.signal(sig, _raise_stopped) for sig in EXIT_CODES}
    _received.clear()
    try:
        yield
    except Stopped:
        raise
    except BaseException:
        stop = pending()
        if stop is None:
            raise
        raise stop from None
    else:
        raise_if_stopped()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _received.clear()


def stopped_line(stop: Stopped, db_path: Path, before: str | None) -> str:
    """One line: which signal stopped the run, and what the store serves now."""
    now = published_version(db_path)
    if now != before:
        served = f"the new version {now} of {db_path} was published before the stop"
    elif now is None:
        served = f"nothing was published; {db_path} does not exist yet"
    else:
        served = f"nothing was published; {db_path} still serves version {now}, as before"
    return f"stopped by {stop} before the run finished: {served}"


def disk_line(error: OSError, where: Path) -> str:
    """One line for an error of the disk or of permissions: the path (``where`` when the
    error names none) and what to do."""
    path = error.filename or f"writing under {where}"
    advice = {
        errno.ENOSPC: "the disk is full: free space there and run again",
        errno.EDQUOT: "the disk quota is used up: free space there and run again",
        errno.EROFS: "the file system is read-only: choose a writable folder (--db, "
        "MIGSTOCK_DATA_DIR) or remount it",
        errno.EACCES: "permission denied: make it writable for this user, or choose another "
        "folder (--db, MIGSTOCK_DATA_DIR)",
        errno.EPERM: "operation not permitted: make it writable for this user, or choose "
        "another folder (--db, MIGSTOCK_DATA_DIR)",
    }.get(error.errno or 0, f"{error.strerror or error}: check the path and run again")
    return f"{path!s}: {advice}; nothing was published"
