"""Migration flows estimated from bilateral migrant stocks (issue #28).

The definitions (inputs, the three methods and their citations, what "estimate" means,
the two deliberate differences from migest 2.0.5, WPP's file and columns, how to run it)
are in the README, section "Flows estimated from stocks". This package is the estimation
only: it receives an open DuckDB connection to the store and imports nothing of
``migstock.store``, ``migstock.pipeline`` or ``migstock.site`` (a test checks it);
:func:`migstock.pipeline.refresh_flows` reads WPP, validates and publishes.

* :mod:`~migstock.flows.stocks`: the stock tables of each period and sex, read with SQL;
* :mod:`~migstock.flows.estimators`, :mod:`~migstock.flows.ipf`: migest's ``ffs_demo``
  and ``ffs_diff`` in NumPy (the port and its two departures are documented there);
* :mod:`~migstock.flows.estimate`: the entry points, :func:`estimate_flows` (the ``flows``
  table's rows: ``revision``, ``period_start``, ``period_end``, ``origin_code``,
  ``destination_code``, ``sex``, ``method``, ``flow``, ``vital_events``; exact zeros left
  out unless ``keep_zeros``) and :func:`estimate_revision` (the rows and each place's
  account, from the same fits);
* :mod:`~migstock.flows.checks`: the rows the ``flows`` validation suite judges;
* :mod:`~migstock.flows.wpp` and :mod:`~migstock.flows.wpp_file`: births and deaths from
  WPP's demographic indicators CSV (recognised by its columns without importing pandas).

Speed: each IPF keeps its iterate as a seed times row and column factors, so a sweep is
one matrix-vector product (the 3-way fit decomposes into one fit per birthplace); the
stopping criterion is computed in full only when cheap bounds cannot decide it, so the
iteration count is exactly mipfp's. ``scripts/bench_flows.py`` times the estimation
alone (a 233-place synthetic revision, or a store); ``scripts/benchmark.py --section
scale`` times ``migstock flows`` as a user runs it on the full-size store.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: where each public name lives; imported on first use, so that recognising a WPP file
#: (:mod:`migstock.flows.wpp_file`, asked by the acquire step) imports no NumPy or pandas
_EXPORTS = {
    "FLOW_COLUMNS": "migstock.flows.estimate",
    "METHODS": "migstock.flows.estimate",
    "FlowEstimate": "migstock.flows.estimate",
    "estimate_revision": "migstock.flows.estimate",
    "estimate_flows": "migstock.flows.estimate",
    "flow_checks": "migstock.flows.checks",
    "VitalEvents": "migstock.flows.wpp",
    "read_wpp_indicators": "migstock.flows.wpp",
    "WppFile": "migstock.flows.wpp_file",
    "find_wpp_indicators": "migstock.flows.wpp_file",
    "wpp_provenance": "migstock.flows.wpp_file",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
