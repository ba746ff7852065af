"""Great Expectations in a process of its own, behind the ``Validator`` API.

Importing Great Expectations takes seconds and about 140 MB, and a first validation
another 45 MB. In a worker process that starts with the run, the import happens
while the main process imports Prefect and Prefect's server boots, and the memory
stays out of the main process (which holds pandas, DuckDB and Prefect's client):
neither process of a run then goes far over 350 MB.

:class:`RemoteValidator` forwards every method call and attribute read to a
``Validator`` in the worker; frames and results travel pickled (a million-row
frame in about a quarter of a second). One worker serves a whole process: flows
run one after another reuse it.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from migstock import worker_process
from migstock.errors import MigstockError

_pool: ProcessPoolExecutor | None = None
#: the worker's validators, by the id the main process gave them
_validators: dict[int, Any] = {}


def _warm_up() -> None:
    from migstock.validate.gx import preload

    preload()


def _create(key: int, kwargs: dict[str, Any]) -> None:
    from migstock.validate.gx import Validator

    _validators[key] = Validator(**kwargs)


def _attribute(key: int, name: str) -> tuple[bool, Any]:
    value = getattr(_validators[key], name)
    return (True, None) if callable(value) else (False, value)


def _call(key: int, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return getattr(_validators[key], name)(*args, **kwargs)


def _drop(key: int) -> None:
    _validators.pop(key, None)


def start() -> ProcessPoolExecutor:
    """Start the worker now (it imports Great Expectations at once); idempotent."""
    global _pool
    if _pool is None:
        _pool = worker_process.start(_warm_up)
        atexit.register(stop)
    return _pool


def stop(wait: bool = True) -> None:
    """Let the worker exit (``wait``: until it has)."""
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=wait, cancel_futures=True)
        _pool = None


def _result(future: Future[Any]) -> Any:
    try:
        return future.result()
    except BrokenProcessPool as error:
        stop()
        raise MigstockError(
            f"the validation process died ({error}); it may have run out of memory"
        ) from None


class RemoteValidator:
    """A ``Validator(**kwargs)`` living in the worker process, used like a local one.

    It stays with the worker it was made in: once that worker is stopped, a call
    raises instead of starting another one (which would not know this validator).
    """

    _next_key = 0

    def __init__(self, **kwargs: Any) -> None:
        RemoteValidator._next_key += 1
        self._key = RemoteValidator._next_key
        self._pool = start()
        self._run(_create, self._key, kwargs)
        self._attributes: dict[str, Any] = {}

    def _submit(self, function: Any, *args: Any) -> Future[Any]:
        try:
            return self._pool.submit(function, *args)
        except RuntimeError:  # "cannot schedule new futures after shutdown"
            raise MigstockError("the validation process has already been stopped") from None

    def _run(self, function: Any, *args: Any) -> Any:
        return _result(self._submit(function, *args))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._attributes:
            is_method, value = self._run(_attribute, self._key, name)
            if is_method:

                def method(*args: Any, **kwargs: Any) -> Any:
                    return self._run(_call, self._key, name, args, kwargs)

                method.__name__ = name
                value = method
            self._attributes[name] = value
        return self._attributes[name]

    def in_background(self, name: str, *args: Any, **kwargs: Any) -> Callable[[], Any]:
        """Start method ``name`` in the worker and return at once; call what this returns
        to wait for its result. (The worker does one thing at a time: calls made
        meanwhile wait their turn.)"""
        future = self._submit(_call, self._key, name, args, kwargs)
        return lambda: _result(future)

    def close(self) -> None:
        """Let the worker forget this validator (the worker itself stays for the next)."""
        if self._pool is _pool:
            self._run(_drop, self._key)
