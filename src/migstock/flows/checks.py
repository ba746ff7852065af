"""The rows the ``flows`` validation suite judges: one row per check, like the
reconciliation frame of the stock tables.

Great Expectations validates one frame, and a revision's flows are millions of rows,
while what a steward needs to see is per place and period. So the checks are laid out
here, small, one row each (``expectations/flows.json`` says what passes):

``account_identity``
    Per period, sex and place, under ``demographic_account``: ``expected`` is the change
    of the place's residents in the stock tables the account was fitted to (end − start),
    ``actual`` its estimated inflows − outflows. The account closes when they agree.
``flow_not_negative``
    Per period, sex, method and destination: ``actual`` is the smallest flow into the
    place (NaN when a flow is not a number), ``origin_code`` where it comes from.
``consecutive_periods``
    Per period, sex and method: ``expected`` is the reference year that follows
    ``period_start`` among the revision's reference years for that sex (NaN when
    ``period_start`` is not one, or is the last), ``actual`` is ``period_end``.

Every row carries the ``sex`` and ``method`` of the rows it sums, so the suite also
checks those against their sets. Imports nothing of the store, pipeline or site.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from migstock.flows.estimate import FlowEstimate
from migstock.flows.stocks import SEXES, reference_years

#: the columns of :func:`flow_checks`, in order
CHECK_COLUMNS = (
    "check",
    "revision",
    "period_start",
    "period_end",
    "sex",
    "method",
    "place_code",
    "origin_code",
    "expected",
    "actual",
    "abs_difference",
)
CHECKS = ("account_identity", "flow_not_negative", "consecutive_periods")


def _finish(check: str, frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.assign(check=check)
    for column in ("place_code", "origin_code", "expected", "actual"):
        if column not in frame:
            frame[column] = np.nan
    frame["expected"] = frame["expected"].astype("float64")
    frame["actual"] = frame["actual"].astype("float64")
    frame["place_code"] = frame["place_code"].astype("float64")
    frame["origin_code"] = frame["origin_code"].astype("float64")
    frame["abs_difference"] = (frame["actual"] - frame["expected"]).abs()
    return frame.loc[:, list(CHECK_COLUMNS)]


def account_rows(account: pd.DataFrame) -> pd.DataFrame:
    """``account_identity``: each place's change of residents vs its net flow."""
    frame = account.assign(
        method="demographic_account",
        expected=account["end"] - account["start"],
        actual=account["inflow"] - account["outflow"],
    )
    return _finish("account_identity", frame)


def sign_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """``flow_not_negative``: the smallest flow into each place (NaN if any flow into it
    is not a number: NaN, which DuckDB reads from pandas as NULL), and its origin; summed
    in DuckDB, without copying the rows."""
    if rows.empty:
        return _finish("flow_not_negative", pd.DataFrame(columns=list(CHECK_COLUMNS[1:6])))
    with duckdb.connect() as con:
        con.register("flows", rows)
        frame = con.execute(
            "SELECT revision, period_start, period_end, sex::VARCHAR AS sex, "
            "method::VARCHAR AS method, destination_code AS place_code, "
            "arg_min(origin_code, flow) AS origin_code, "
            "CASE WHEN bool_or(flow IS NULL OR isnan(flow)) THEN 'NaN'::DOUBLE "
            "ELSE min(flow) END AS actual "
            "FROM flows GROUP BY ALL ORDER BY ALL"
        ).df()
    return _finish("flow_not_negative", frame)


def period_rows(rows: pd.DataFrame, years: dict[str, list[int]]) -> pd.DataFrame:
    """``consecutive_periods``: each period's end vs the reference year after its start."""
    keys = ["revision", "period_start", "period_end", "sex", "method"]
    periods = rows.loc[:, keys].drop_duplicates().reset_index(drop=True)
    following = []
    for start, sex in zip(periods["period_start"], periods["sex"], strict=True):
        ref = years.get(str(sex), [])
        later = [y for y in ref if y > int(start)]
        following.append(later[0] if int(start) in ref and later else np.nan)
    frame = periods.assign(expected=following, actual=periods["period_end"])
    return _finish("consecutive_periods", frame)


def flow_checks(con: duckdb.DuckDBPyConnection, revision: int, found: FlowEstimate) -> pd.DataFrame:
    """The checks of one revision's estimate (``found``), as rows of :data:`CHECK_COLUMNS`;
    the reference years are read from the stock tables on ``con``."""
    years = {sex: reference_years(con, revision, sex) for sex in SEXES}
    parts = [account_rows(found.account), sign_rows(found.rows), period_rows(found.rows, years)]
    parts = [part for part in parts if len(part)]
    if not parts:
        return _finish("account_identity", pd.DataFrame(columns=list(CHECK_COLUMNS[1:6])))
    return pd.concat(parts, ignore_index=True)
