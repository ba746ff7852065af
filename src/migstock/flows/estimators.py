"""Flows from two stock tables: migest 2.0.5's ``ffs_demo`` and ``ffs_diff`` in NumPy.

Every matrix here is indexed ``[birthplace, residence]`` like migest's stock tables
(rows are places of birth, columns places of residence); vectors of births and deaths
are by place of residence. The flow array of :func:`ffs_demo` is ``[origin,
destination, birthplace]`` like migest's, stayers on its diagonal.

The port follows ``ffs_demo`` with its defaults step by step (``nb_non_zero``,
``nb_scale_global``, ``birth_mat(method = "native", non_negative = TRUE)``,
``death_mat(method = "proportion")``, ``match_birthplace_tot(method = "rescale")``, the
stayer decomposition and the last 3-way IPF). It departs from migest in two places only,
both where migest's result is not a count or not reproducible:

* **Shares instead of counts.** ``mipfp::Ipfp`` returns shares that sum to 1 when the
  sums of its target margins differ by more than ``tol.margins``. Here every fit returns
  counts, and the targets are made consistent first. In ``match_birthplace_tot`` the
  birthplace targets are scaled to the residence total (a no-op when the tables' sums
  agree, as ``ffs_demo`` makes them). Before the last fit, a birthplace whose start and
  end totals the rescaling IPF could not make equal, so that all its movers sit at one
  end of the period (the case that makes mipfp switch to shares on real tables), gets
  both rows scaled to ``match_birthplace_tot``'s target (:func:`close_lone_birthplaces`);
  every other birthplace goes through migest's own step (end movers scaled to the start
  movers' total) unchanged.
* **A random cell.** ``rescale_integer_sum`` rounds a vector and gives the remainder to
  ``sample(which(x == max(abs(x))), 1)``; with one largest cell at position m > 1, R's
  ``sample(m, 1)`` draws from ``1:m``, so the remainder lands on a random cell. Here it
  goes to the largest cell (the first of equals), as migest's comment intends.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from migstock.flows.ipf import TOL, FitReport, ipf2_many, ipf3_stayers, scale_columns, scale_rows

Float = NDArray[np.float64]

#: ``match_birthplace_tot`` methods ported (``rescale`` is ``ffs_demo``'s default).
BIRTHPLACE_METHODS = ("rescale", "open", "open-dr")


def _r_round(x: Float) -> Float:
    """R's ``round(x)``: to the nearest integer, halves to even (as NumPy's)."""
    return np.round(x)


def rescale_integer_sum(x: ArrayLike, tot: float) -> Float:
    """migest's ``rescale_integer_sum``: ``x`` scaled to sum to ``tot``, rounded.

    Every value is scaled by ``tot / sum(x)`` and rounded (halves to even, as R); the
    remainder ``tot - sum`` is added to the cell with the largest absolute value, the
    first of equals. migest picks that cell with ``sample()``, which for a single
    largest cell at position m > 1 draws from ``1:m`` (R's ``sample`` on one number):
    that is the random step this port makes deterministic. A vector summing to 0
    cannot be scaled; then the whole ``tot`` goes to that same cell.
    """
    v = np.asarray(x, dtype=float)
    s = float(v.sum())
    if s == 0.0:
        out = np.zeros_like(v)
        if out.size:
            out[int(np.argmax(np.abs(v)))] = tot
        return out
    out = _r_round(v * (tot / s))
    rest = tot - float(out.sum())
    if rest != 0:
        out[int(np.argmax(np.abs(v)))] += rest
    return out


def nb_non_zero(m: Float) -> Float:
    """migest's ``nb_non_zero``: columns with a negative native-born cell made feasible.

    Such a column is scaled, with its negative cells set to 0, to the column's original
    total. The stock tables built by :mod:`migstock.flows.stocks` never need it (their
    native-born cells are counted as 0 where negative); it is kept for the port.
    """
    neg = np.diag(m) < 0
    if not neg.any():
        return m
    out = m.copy()
    fitted = scale_columns(np.maximum(m, 0.0), m.sum(axis=0))
    out[:, neg] = fitted[:, neg]
    return out


def nb_scale_global(m1: Float, m2: Float, b: Float, d: Float) -> tuple[Float, Float]:
    """migest's ``nb_scale_global``: native-born cells moved so that growth = births − deaths.

    The difference ``dd`` between natural growth and the growth of the tables is taken
    half from the start table's native-born cells and half from the end table's, each
    rescaled with :func:`rescale_integer_sum` (so they become whole numbers). migest's
    test for an "odd" difference (``round(dd %% 2) == 0 & dd %% 2 != 0``) is kept as it
    is written.
    """
    m1 = m1.copy()
    m2 = m2.copy()
    nat_grow = float(np.sum(b - d))
    dd = nat_grow - float(np.sum(m2 - m1))
    tot1 = float(np.trace(m1))
    tot2 = float(np.trace(m2))
    r = dd % 2.0
    if _r_round(np.array(r)) == 0 and r != 0:
        np.fill_diagonal(m2, rescale_integer_sum(np.diag(m2), tot2 + 1))
        dd = nat_grow - float(np.sum(m2 - m1))
        tot2 = float(np.trace(m2))
    if dd != 0:
        np.fill_diagonal(m1, rescale_integer_sum(np.diag(m1), tot1 - dd / 2))
        np.fill_diagonal(m2, rescale_integer_sum(np.diag(m2), tot2 + dd / 2))
    return m1, m2


def birth_mat(b: Float, m2: Float) -> Float:
    """migest's ``birth_mat(method = "native", non_negative = TRUE)``.

    Births belong to the native born of each place; where a place has more births than
    native born at the end, its births are spread over its column of ``m2`` instead.
    """
    bb = np.diag(b).astype(float)
    short = np.diag(m2) - b < 0
    if short.any():
        bb[:, short] = scale_columns(m2, b)[:, short]
    return bb


def death_mat(d: Float, m1: Float) -> Float:
    """migest's ``death_mat(method = "proportion")``: deaths spread over ``m1``'s columns."""
    return scale_columns(m1, d)


@dataclass
class BirthplaceMatch:
    """``match_birthplace_tot``'s result: tables with equal birthplace totals."""

    m1: Float
    m2: Float
    in_mat: Float
    out_mat: Float
    target: Float | None = None
    reports: list[FitReport] = field(default_factory=list)


def match_birthplace_tot(m1: Float, m2: Float, method: str = "rescale") -> BirthplaceMatch:
    """migest's ``match_birthplace_tot``: make both tables' birthplace totals equal.

    ``rescale`` (the default): each table is fitted by IPF to the mean of the two
    birthplace totals and to its own residence totals. migest hands mipfp targets whose
    sums differ by half the difference of the tables' sums; where that exceeds
    ``tol.margins`` mipfp returns shares. Here the birthplace targets are first scaled
    to the residence totals' sum, so the fit returns counts (on tables whose sums agree,
    as ``ffs_demo`` makes them, the scaling is 1 up to rounding).

    ``open`` and ``open-dr`` (not ``ffs_demo``'s default, ported for migest's examples):
    the difference leaves or enters the system, spread over the start (``open``) or end
    (``open-dr``) table's rows.
    """
    if method not in BIRTHPLACE_METHODS:
        raise ValueError(f"method must be one of {BIRTHPLACE_METHODS}, not {method!r}")
    dd = m1.sum(axis=1) - m2.sum(axis=1)
    zeros = np.zeros_like(m1)
    if method == "rescale":
        target = m1.sum(axis=1) - dd / 2  # = m2.sum(axis=1) + dd / 2, the mean
        rows = []
        for m in (m1, m2):
            rs = float(target.sum())
            rows.append(target * (float(m.sum()) / rs) if rs > 0 else target)
        adj, reports = ipf2_many([m1, m2], rows, [m1.sum(axis=0), m2.sum(axis=0)])
        return BirthplaceMatch(adj[0], adj[1], zeros, zeros.copy(), target, reports)
    if method == "open":
        in_mat = scale_rows(m1, np.maximum(-dd, 0.0))
        out_mat = scale_rows(m2, np.maximum(dd, 0.0))
    else:  # open-dr
        in_mat = scale_rows(m2, np.maximum(-dd, 0.0))
        out_mat = scale_rows(m1, np.maximum(dd, 0.0))
    return BirthplaceMatch(m1 - out_mat, m2 - in_mat, in_mat, out_mat)


@dataclass
class DemoResult:
    """What :func:`ffs_demo` estimated, and the account it closes.

    ``flows[o, d, b]`` is the estimated number of people born in b who lived in o at the
    start and in d at the end (stayers on o = d). ``start`` and ``end`` are the
    adjusted stock tables the account closes on (``[birthplace, residence]``):
    ``flows.sum(axis=1).T == start`` and ``flows.sum(axis=0).T == end`` within the IPF
    tolerance, so for each birthplace and place start + inflows − outflows = end.
    ``end_adjustment`` is migest's last adjustment of the end table (its movers scaled,
    per birthplace, to the start movers' total: the margin error
    ``match_birthplace_tot``'s IPF left, a fraction of a person on real tables).
    ``births`` and ``deaths`` are the matrices taken off the tables;
    ``equalized`` the difference, per birthplace, between the start and end totals that
    ``match_birthplace_tot``'s IPF left and that this port closed (see the module
    docstring); ``unplaced`` movers no fit could place (zero unless a birthplace target
    is itself zero); ``reports`` each IPF's report.
    """

    flows: Float
    start: Float
    end: Float
    end_adjustment: Float
    births: Float
    deaths: Float
    equalized: Float
    unplaced: Float
    reports: list[FitReport]

    def od(self) -> Float:
        """Origin × destination flows summed over birthplaces, diagonal 0 (``sum_od``)."""
        f = self.flows.sum(axis=2)
        np.fill_diagonal(f, 0.0)
        return f


def _lone(s5: Float, e5: Float) -> NDArray[np.bool_]:
    """Birthplaces with movers at one end of the period only (see :func:`stayer_flows`)."""
    stay = np.minimum(s5, e5)
    return (np.sum(s5 - stay, axis=1) > 0) != (np.sum(e5 - stay, axis=1) > 0)


def close_lone_birthplaces(match: BirthplaceMatch) -> tuple[Float, Float, Float]:
    """Birthplace totals that ``match_birthplace_tot`` could not equalize, equalized.

    The IPF of ``rescale`` stops on the change of its cells, not on its margins, and a
    birthplace whose row has a single non-zero cell (no emigrants in the data: only its
    native born) cannot reach its target at all, since that cell is also held by its
    column. Its start and end totals then still differ, and all the difference sits on
    one side: movers out of places at the start and none into places at the end, or
    the reverse. ``ffs_demo`` cannot fit such a birthplace; the sums of the last fit's
    targets then differ (by 3,578 persons of 229 million on the 2024 revision, total,
    2015–2020) and mipfp returns shares instead of counts.

    Here, for those birthplaces only (elsewhere migest's own step, scaling the end
    movers to the start movers, does the job and is kept), both rows are scaled to
    ``match_birthplace_tot``'s target for the birthplace, the mean of its two totals
    before the fit, so the totals agree exactly. Returns the tables and, per
    birthplace, the absolute difference that was closed (0 elsewhere).
    """
    s5, e5 = match.m1, match.m2
    closed = np.zeros(s5.shape[0])
    lone = _lone(s5, e5)
    if match.target is None or not lone.any():
        return s5, e5, closed
    s5 = s5.copy()
    e5 = e5.copy()
    r1 = s5[lone].sum(axis=1)
    r2 = e5[lone].sum(axis=1)
    closed[lone] = np.abs(r1 - r2)
    t = match.target[lone]
    s5[lone] *= np.divide(t, r1, out=np.zeros_like(t), where=r1 > 0)[:, None]
    e5[lone] *= np.divide(t, r2, out=np.zeros_like(t), where=r2 > 0)[:, None]
    return s5, e5, closed


@dataclass
class StayerFit:
    """:func:`stayer_flows`' result; arrays are ``[place, birthplace]``.

    The flow of birthplace b from o to d ≠ o is ``a[o, b] * c[d, b]``; ``stay`` holds
    the stayers, ``moving_out`` and ``moving_in`` the margins the fit was given.
    """

    a: Float
    c: Float
    stay: Float
    moving_out: Float
    moving_in: Float
    unplaced: Float
    report: FitReport


def stayer_flows(s5: Float, e5: Float) -> StayerFit:
    """Stayers, and movers fitted by IPF, from two tables with equal birthplace totals.

    As ``ffs_demo`` with ``stayer_assumption = TRUE``: the stayers of birthplace b in
    place a are ``min(start[b, a], end[b, a])``; the rest, movers out of each place at
    the start (``x0``) and into each place at the end (``x1``), are fitted from a seed of
    1 off the diagonal. migest first scales ``x1`` to ``x0``'s total per birthplace; a
    birthplace whose ``x1`` (or ``x0``) is still all zero while the other is not (after
    :func:`close_lone_birthplaces`, only where its target was 0) cannot be fitted: its
    movers are set to zero on both sides and returned as ``unplaced``, so the fit still
    returns counts.

    Returns a :class:`StayerFit`.
    """
    stay = np.minimum(s5, e5).T  # [place, birthplace]
    x0 = s5.T - stay
    x1 = e5.T - stay
    # migest: x1 <- Ipfp(x1, list(2), list(colSums(x0)))$x.hat
    t0 = x0.sum(axis=0)
    t1 = x1.sum(axis=0)
    x1 = scale_columns(x1, t0)
    # what cannot be placed: a birthplace with movers on one side only
    lone = (t0 > 0) != (t1 > 0)
    unplaced = np.where(lone, np.maximum(t0, t1), 0.0)
    x0 = np.where(lone[None, :], 0.0, x0)
    x1 = np.where(lone[None, :], 0.0, x1)
    a, c, rep = ipf3_stayers(x0, x1, tol=TOL)
    return StayerFit(a, c, stay, x0, x1, unplaced, rep)


def ffs_demo(
    stock_start: ArrayLike,
    stock_end: ArrayLike,
    births: ArrayLike | None = None,
    deaths: ArrayLike | None = None,
    match_birthplace_tot_method: str = "rescale",
    full: bool = True,
) -> DemoResult:
    """migest 2.0.5's ``ffs_demo`` with its defaults (stayer assumption, seed 1,
    ``match_global = "before-demo-adjust"``, births to the native born, deaths in
    proportion, IPF to 1e-3), in NumPy.

    ``stock_start`` and ``stock_end`` are ``[birthplace, residence]`` tables over the same
    places, ``births`` and ``deaths`` per place of residence over the period (zero when
    omitted). With ``full=False`` the flow array is not built (``flows`` is then the
    origin × destination matrix with stayers on the diagonal, shape (n, n, 1)); the
    estimates are the same.
    """
    s1 = np.array(stock_start, dtype=float)
    e1 = np.array(stock_end, dtype=float)
    n = s1.shape[0]
    if s1.shape != (n, n) or e1.shape != (n, n):
        raise ValueError("stock tables must be square and of the same size")
    b = np.zeros(n) if births is None else np.asarray(births, dtype=float)
    d = np.zeros(n) if deaths is None else np.asarray(deaths, dtype=float)
    if b.shape != (n,) or d.shape != (n,):
        raise ValueError("births and deaths need one value per place")

    s1 = nb_non_zero(s1)
    e1 = nb_non_zero(e1)
    if match_birthplace_tot_method == "rescale":
        s2, e2 = nb_scale_global(s1, e1, b, d)
    else:
        s2, e2 = s1, e1
    b_mat = birth_mat(b, e2)
    d_mat = death_mat(d, s2)
    s3 = s2 - d_mat
    e3 = e2 - b_mat
    match = match_birthplace_tot(s3, e3, match_birthplace_tot_method)
    s5, e5, equalized = close_lone_birthplaces(match)
    fit = stayer_flows(s5, e5)
    a, c, stay = fit.a, fit.c, fit.stay
    if full:
        flows = a[:, None, :] * c[None, :, :]
        idx = np.arange(n)
        flows[idx, idx, :] = stay
    else:
        od = a @ c.T  # its diagonal (o == d products) is not a flow: replaced
        np.fill_diagonal(od, stay.sum(axis=1))
        flows = od[:, :, None]
    return DemoResult(
        flows=flows,
        start=(stay + fit.moving_out).T,
        end=(stay + fit.moving_in).T,
        end_adjustment=(stay + fit.moving_in).T - e5,
        births=b_mat,
        deaths=d_mat,
        equalized=equalized,
        unplaced=fit.unplaced,
        reports=[*match.reports, fit.report],
    )


def ffs_diff(stock_start: ArrayLike, stock_end: ArrayLike, decrease: str) -> Float:
    """migest's ``ffs_diff`` (native born left out): flows as differences of stocks.

    ``decrease = "zero"``: the flow from k to j is the increase of the stock born in k
    living in j, decreases counted as 0 (Bertoli and Fernández-Huertas Moraga).
    ``decrease = "return"``: in addition, a decrease of the stock born in k living in j
    is a return flow from j to k (Beine and Parsons). Returns ``[origin, destination]``.
    """
    s1 = np.array(stock_start, dtype=float)
    s2 = np.array(stock_end, dtype=float)
    np.fill_diagonal(s1, 0.0)
    np.fill_diagonal(s2, 0.0)
    y0 = s2 - s1
    if decrease == "zero":
        return np.maximum(y0, 0.0)
    if decrease == "return":
        return np.maximum(y0, 0.0) + np.maximum(-y0.T, 0.0)
    raise ValueError(f"decrease must be 'zero' or 'return', not {decrease!r}")
