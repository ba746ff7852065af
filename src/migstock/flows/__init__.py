"""Migration flows estimated from bilateral migrant stocks (issue #28).

One entry point, :func:`estimate_flows`: for a revision, every period between two
consecutive reference years and every sex, origin → destination flows by three methods,
as rows of the ``flows`` table (``revision``, ``period_start``, ``period_end``,
``origin_code``, ``destination_code``, ``sex``, ``method``, ``flow``, ``vital_events``).
It receives an open DuckDB connection to the store and imports nothing of
``migstock.store``, ``migstock.pipeline`` or ``migstock.site``.

Input: the stock tables
-----------------------
For a revision, a period t0–t1 and a sex (:mod:`migstock.flows.stocks`):

* **places**: the countries and areas (M49 codes below 900) that have a row in
  ``destination_totals`` with both ``migrants`` and ``total_population`` known in both
  years;
* ``P_t[k, j]`` for k ≠ j: ``bilateral_stock.migrants`` of people born in k living in j,
  over rows with ``origin_kind = 'country'`` (the "Other North"/"Other South" and total
  origins are left out) and both codes among the places; NULL (not available or
  suppressed) and missing pairs count as 0. Stocks whose origin or destination is not a
  place are left out (``StockTables.left_out`` counts them);
* ``P_t[j, j]``: ``total_population − migrants`` of j in year t (persons), counted as 0
  where the UN's figures make it negative (Bonaire, Sint Eustatius and Saba, 535, in
  several revisions).

The reference years are those with both bilateral stocks and destination totals for the
sex: 1990, 1995, …, 2015 and 2017/2019/2020/2024 (the revision's own year).

Births and deaths
-----------------
Per place and period they come from the UN's *World Population Prospects*
"Demographic indicators" CSV (``WPP2024_Demographic_Indicators_Medium.csv``), when it
is found among the raw files (:func:`find_wpp_indicators` recognises it by its columns
``LocID``, ``Time``, ``Births``, ``SRB``, ``Deaths``, ``DeathsMale``, ``DeathsFemale``;
:func:`read_wpp_indicators` reads it; see :mod:`migstock.flows.wpp` for units, sex split
and the half-years at both ends of a period). Cite: United Nations, Department of
Economic and Social Affairs, Population Division (2024). *World Population Prospects
2024*, Online Edition. Without it they are zero and ``vital_events`` is false, as
migest with zero births and deaths: the world's population growth over the period is
then taken out of the native-born cells (``nb_scale_global``, below) and each
birthplace's remaining change is spread by ``match_birthplace_tot``. The caller passes a
:class:`VitalEvents` (from WPP, or any table with the same columns).

Methods (``method`` column)
---------------------------
``demographic_account``
    The closed demographic account of Abel and Cohen (2019) as migest 2.0.5's
    ``ffs_demo`` computes it with its defaults, ported step by step in
    :mod:`migstock.flows.estimators`: negative native-born cells made feasible
    (``nb_non_zero``); native-born cells of both tables rescaled so that the change of
    the world total equals births − deaths (``match_global = "before-demo-adjust"``,
    ``nb_scale_global``); births taken from the end table's native born (``birth_mat``,
    ``"native"``, spread over the column where a place has more births than native born)
    and deaths from the start table in proportion to each stock (``death_mat``,
    ``"proportion"``); both tables fitted by IPF to the mean of their birthplace totals
    (``match_birthplace_tot``, ``"rescale"``); then, per birthplace, the stayers are
    ``min(start, end)`` in each place and the movers (start minus stayers out of each
    place, end minus stayers into each place) are fitted by a 3-way IPF (birthplace ×
    origin × destination, seed 1 off the diagonal). Every IPF stops as mipfp's ``Ipfp``
    does with migest's settings: after the first iteration in which no cell changes by
    1e-3 or more (at most 1e5 iterations). The flow from o to d is the sum of the moves
    over birthplaces.
``stock_difference_zero``
    migest's ``ffs_diff(decrease = "zero")``: the increase of the stock born in o living
    in d; decreases count as 0.
``stock_difference_return``
    ``ffs_diff(decrease = "return")``: as above, plus a decrease of the stock born in d
    living in o counted as a return flow from o to d.

The flows are persons, unrounded (``DOUBLE``); exact zeros are left out of the rows
unless ``keep_zeros=True`` (a pair of places of the period and sex with no row is then
a zero flow).

Where the port differs from migest, on purpose
----------------------------------------------
Both differences are where migest's result is not counts, or not reproducible; on every
other input the port gives migest's numbers: its documented examples to the printed
digits, R's output on the committed fixtures to the 6 decimals R wrote, and R's output
on the real 2019 table (both sexes, 2010–2015, 232 places) to 1e-7 persons once R's
random step (2. below) is made to pick the same cell.

1. **Shares instead of counts.** ``mipfp::Ipfp`` checks that its target margins have
   equal sums (within ``tol.margins``: mipfp's default is 1e-10, migest passes 1e-3)
   and otherwise divides seed and targets by their sums and returns shares that sum to
   1, with only a warning. On real tables this happens in ``ffs_demo``'s last fit:
   ``match_birthplace_tot``'s IPF stops on the change of its cells, and a birthplace
   whose row holds only its native born (no emigrants in the data) cannot reach its
   target, because that cell is also held by its column. Its start and end totals then
   differ and all its "movers" sit at one end of the period, which no fit can place; the
   two margins of the last fit differ by that amount (3,578 of 229 million persons on the
   2024 revision, both sexes, 2015–2020) and R returns shares for the whole world.
   Here the IPF never switches to shares, and before the last fit such a birthplace
   (movers at one end only) has both its rows scaled to ``match_birthplace_tot``'s own
   target for it (the mean of its two totals), so its account closes with stayers only;
   ``DemoResult.equalized`` reports how much was closed. Every other birthplace keeps
   migest's step (end movers scaled to the start movers' total). In
   ``match_birthplace_tot`` the birthplace targets are scaled to the residence total
   before fitting, a no-op when the tables' sums agree (as ``ffs_demo`` makes them).
2. **A random cell.** ``rescale_integer_sum`` (used by ``nb_scale_global``) rounds the
   rescaled native-born cells and hands the remainder to
   ``sample(which(x == max(abs(x))), 1)``. With one largest cell at position m > 1,
   R's ``sample(m, 1)`` draws from ``1:m``, so the remainder goes to a random place
   (the committed fixture ``synthetic12`` gives different R results under
   ``set.seed(1)`` and ``set.seed(4)``). Here it always goes to the largest cell (the
   first of equals), which is what migest's comment says it means to do.

Speed
-----
Each IPF keeps its iterate as a seed times row and column factors, so a sweep is one
matrix-vector product (2-way; ``match_birthplace_tot``'s two fits run side by side) or
O(places × birthplaces) (the 3-way fit, which decomposes into one fit per birthplace);
the stopping criterion is computed in full only when cheap bounds cannot decide it, so
the iteration count is exactly mipfp's. ``scripts/bench_flows.py`` measures a revision:
on a 233-place synthetic revision with 8 reference years and three sexes, and on the
2019 and 2024 revisions of a full store, about 10 s and under 300 MB on 2 busy cores.
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
