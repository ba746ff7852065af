"""The entry point: every period, sex and method of one revision, as ``flows`` rows."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from migstock.flows.estimators import ffs_demo, ffs_diff
from migstock.flows.stocks import StockTables, stock_tables
from migstock.flows.wpp import VitalEvents

#: The ``flows`` table's columns, in order.
FLOW_COLUMNS = (
    "revision",
    "period_start",
    "period_end",
    "origin_code",
    "destination_code",
    "sex",
    "method",
    "flow",
    "vital_events",
)

#: The methods, as named in the ``method`` column.
METHODS = ("demographic_account", "stock_difference_zero", "stock_difference_return")

#: The columns of :attr:`FlowEstimate.account`, in order.
ACCOUNT_COLUMNS = (
    "revision",
    "period_start",
    "period_end",
    "sex",
    "place_code",
    "start",
    "end",
    "inflow",
    "outflow",
    "residual",
)


@dataclass(frozen=True)
class FlowEstimate:
    """What :func:`estimate_revision` made of a revision: the ``flows`` rows, and the account each
    place closes under ``demographic_account``.

    ``account`` has one row per period, sex and place (columns :data:`ACCOUNT_COLUMNS`):
    the place's residents at the start and at the end of the period in the stock
    tables the account was fitted to (after births and deaths are taken off and the
    birthplace totals matched), its estimated inflows and outflows, and ``residual`` =
    (end − start) − (inflow − outflow), which the account makes 0 up to the IPF's
    tolerance.
    """

    rows: pd.DataFrame
    account: pd.DataFrame


def period_flows(tables: StockTables, vital: VitalEvents | None = None) -> dict[str, np.ndarray]:
    """The origin × destination flows (diagonal 0) of each method for one period and sex,
    and whether births and deaths were used (key ``vital_events``, a 0-d bool array)."""
    if vital is not None:
        births, deaths, _complete = vital.period(
            tables.codes, tables.period_start, tables.period_end, tables.sex
        )
    else:
        births = deaths = np.zeros(len(tables.codes))
    demo = ffs_demo(tables.start, tables.end, births, deaths, full=False)
    moves = demo.flows[:, :, 0]  # origin x destination, stayers on the diagonal
    stayers = np.diag(moves)
    return {
        "demographic_account": demo.od(),
        # the account of each place (by residence): fitted residents, in- and outflows
        "account_start": demo.start.sum(axis=0),
        "account_end": demo.end.sum(axis=0),
        "account_inflow": moves.sum(axis=0) - stayers,
        "account_outflow": moves.sum(axis=1) - stayers,
        "stock_difference_zero": ffs_diff(tables.start, tables.end, "zero"),
        "stock_difference_return": ffs_diff(tables.start, tables.end, "return"),
        "vital_events": np.array(vital is not None),
    }


def estimate_flows(
    con: duckdb.DuckDBPyConnection,
    revision: int,
    vital: VitalEvents | None = None,
    *,
    keep_zeros: bool = False,
) -> pd.DataFrame:
    """Flows of a revision estimated from its bilateral stocks: the ``flows`` table's rows.

    For every sex and every period between consecutive reference years, the stock
    tables of :mod:`migstock.flows.stocks` are turned into origin × destination flows by
    the three methods of :data:`METHODS`. ``vital`` gives births and deaths per place
    (from WPP, see :mod:`migstock.flows.wpp`); without it they are zero and
    ``vital_events`` is false. Rows whose flow is exactly 0 are left out unless
    ``keep_zeros`` (a pair of places absent from a period and sex is then a zero flow).
    """
    return estimate_revision(con, revision, vital, keep_zeros=keep_zeros).rows


def estimate_revision(
    con: duckdb.DuckDBPyConnection,
    revision: int,
    vital: VitalEvents | None = None,
    *,
    keep_zeros: bool = False,
) -> FlowEstimate:
    """:func:`estimate_flows`' rows and, from the same fits, each place's account
    (:class:`FlowEstimate`): what the ``flows`` validation checks."""
    frames: list[pd.DataFrame] = []
    accounts: list[pd.DataFrame] = []
    for tables in stock_tables(con, revision):
        est = period_flows(tables, vital)
        n = len(tables.codes)
        orig = np.repeat(tables.codes, n)
        dest = np.tile(tables.codes, n)
        off = orig != dest
        for method in METHODS:
            flow = est[method].ravel()
            keep = off if keep_zeros else off & (flow != 0)
            frames.append(
                pd.DataFrame(
                    {
                        "revision": np.int16(revision),
                        "period_start": np.int16(tables.period_start),
                        "period_end": np.int16(tables.period_end),
                        "origin_code": orig[keep].astype(np.int16),
                        "destination_code": dest[keep].astype(np.int16),
                        "sex": tables.sex,
                        "method": method,
                        "flow": flow[keep],
                        "vital_events": bool(est["vital_events"]),
                    }
                )
            )
        start, end = est["account_start"], est["account_end"]
        inflow, outflow = est["account_inflow"], est["account_outflow"]
        accounts.append(
            pd.DataFrame(
                {
                    "revision": np.int16(revision),
                    "period_start": np.int16(tables.period_start),
                    "period_end": np.int16(tables.period_end),
                    "sex": tables.sex,
                    "place_code": tables.codes.astype(np.int16),
                    "start": start,
                    "end": end,
                    "inflow": inflow,
                    "outflow": outflow,
                    "residual": (end - start) - (inflow - outflow),
                }
            )
        )
    if not frames:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in FLOW_COLUMNS})
        account = pd.DataFrame({c: pd.Series(dtype=object) for c in ACCOUNT_COLUMNS})
        return FlowEstimate(empty, account)
    rows = pd.concat(frames, ignore_index=True).loc[:, list(FLOW_COLUMNS)]
    return FlowEstimate(rows, pd.concat(accounts, ignore_index=True))
