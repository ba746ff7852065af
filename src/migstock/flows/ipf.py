"""Iterative proportional fitting as mipfp's ``Ipfp`` runs it for migest, in NumPy.

mipfp's ``Ipfp(seed, target.list, target.data, tol, iter, tol.margins)`` visits the
margins in order each iteration, multiplies every cell by ``target / current margin``
(by 0 where either is 0), and stops after the first iteration whose largest absolute
change of any cell is below ``tol``. migest calls it with ``tol = 1e-3`` and
``iter = 1e5``. The functions here do the same sweeps in the same order and stop on the
same criterion, so their results agree with R's to rounding.

One behaviour is deliberately not copied: when the sums of the target margins differ by
more than ``tol.margins``, mipfp divides the seed and every target by its sum and returns
shares that add up to 1 (with a warning) instead of counts. These functions always
return counts; the callers make the targets consistent before fitting (see
:mod:`migstock.flows.estimators`), and :class:`FitReport` records how far each fit's
targets disagreed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: Convergence tolerance migest passes to ``mipfp::Ipfp`` (largest change of a cell).
TOL = 1e-3
#: Iteration cap migest passes to ``mipfp::Ipfp``.
MAX_ITER = 100_000

Float = NDArray[np.float64]


@dataclass(frozen=True)
class FitReport:
    """What one fit did: iterations, whether it met ``tol``, and how well it fits.

    ``target_gap`` is the absolute difference between the sums of the target margins as
    they were handed in (mipfp compares it with ``tol.margins``); ``margin_error`` the
    largest absolute difference between a target and the fitted margin at the end.
    """

    iterations: int
    converged: bool
    target_gap: float
    margin_error: float


def _factor(target: Float, current: Float) -> Float:
    """mipfp's update factor: ``target / current``, 0 where either is 0."""
    out = np.zeros_like(current)
    ok = (target != 0) & (current != 0)
    np.divide(target, current, out=out, where=ok)
    return out


def scale_columns(seed: Float, col_target: Float) -> Float:
    """``Ipfp(seed, list(2), list(col_target))``: each column scaled to its target.

    With one margin mipfp converges after its second sweep, whose factors are 1 up to
    rounding; one sweep gives the same numbers. A column of zeros stays zero (its target
    is then not met, as in mipfp).
    """
    return seed * _factor(np.asarray(col_target, dtype=float), seed.sum(axis=0))[None, :]


def scale_rows(seed: Float, row_target: Float) -> Float:
    """``Ipfp(seed, list(1), list(row_target))``: each row scaled to its target."""
    return seed * _factor(np.asarray(row_target, dtype=float), seed.sum(axis=1))[:, None]


def ipf2(
    seed: Float,
    row_target: Float,
    col_target: Float,
    tol: float = TOL,
    max_iter: int = MAX_ITER,
) -> tuple[Float, FitReport]:
    """``Ipfp(seed, list(1, 2), list(row_target, col_target))`` on a matrix, as counts.

    Rows are fitted first, then columns, each iteration; the fit stops after the first
    iteration whose largest change of a cell is below ``tol``, as mipfp's does. See
    :func:`ipf2_many`, which this calls with one matrix.
    """
    (x,), (report,) = ipf2_many([seed], [row_target], [col_target], tol, max_iter)
    return x, report


def ipf2_many(
    seeds: list[Float],
    row_targets: list[Float],
    col_targets: list[Float],
    tol: float = TOL,
    max_iter: int = MAX_ITER,
) -> tuple[list[Float], list[FitReport]]:
    """Several independent :func:`ipf2` fits of matrices of one shape, run side by side.

    Each fit is exactly mipfp's and stops at its own iteration; running them together
    only shares the interpreter's overhead. The iterate of a fit is kept as
    ``seed * outer(r, c)`` (every sweep multiplies rows or columns), so a sweep is one
    matrix-vector product. The largest change of a cell is first looked at on a watch
    list of 4 × n cells (the diagonal, each row's and each column's largest seed cell,
    and each row's cell that changed most when it was last computed in full); only when
    none of those moved by ``tol`` or more is it computed over the whole matrix, so the
    stopping iteration is exactly mipfp's.
    """
    s = np.stack([np.asarray(x, dtype=float) for x in seeds])
    rows = np.stack([np.asarray(x, dtype=float) for x in row_targets])
    cols = np.stack([np.asarray(x, dtype=float) for x in col_targets])
    k, n, m = s.shape
    gaps = np.abs(rows.sum(axis=1) - cols.sum(axis=1))
    r = np.ones((k, n))
    c = np.ones((k, m))
    d = min(n, m)
    fixed = np.concatenate(
        [
            np.broadcast_to(np.arange(d) * m + np.arange(d), (k, d)),
            np.argmax(s, axis=2) + np.arange(n) * m,
            np.argmax(s, axis=1) * m + np.arange(m),
        ],
        axis=1,
    )
    watch = np.concatenate([fixed, fixed[:, :n]], axis=1)
    flat = s.reshape(k, n * m)
    active = list(range(k))
    done_r: dict[int, Float] = {}
    done_c: dict[int, Float] = {}
    iters = [max_iter] * k
    conv = [False] * k
    with np.errstate(divide="ignore", invalid="ignore"):
        for it in range(1, max_iter + 1):
            if not active:
                break
            r_old, c_old = r, c
            cur = r * np.matmul(s, c[:, :, None])[:, :, 0]
            f = rows / cur
            f[cur == 0] = 0.0
            r = r * f
            cur = c * np.matmul(r[:, None, :], s)[:, 0, :]
            f = cols / cur
            f[cur == 0] = 0.0
            c = c * f
            wi, wj = np.divmod(watch, m)
            moved = np.take_along_axis(flat, watch, axis=1) * np.abs(
                np.take_along_axis(r, wi, axis=1) * np.take_along_axis(c, wj, axis=1)
                - np.take_along_axis(r_old, wi, axis=1) * np.take_along_axis(c_old, wj, axis=1)
            )
            unsure = np.flatnonzero(moved.max(axis=1, initial=0.0) < tol)
            if unsure.size == 0:
                continue
            finished = []
            for q in unsure:
                change = s[q] * np.abs(np.outer(r[q], c[q]) - np.outer(r_old[q], c_old[q]))
                if float(change.max(initial=0.0)) < tol:
                    finished.append(q)
                else:
                    watch[q, -n:] = np.argmax(change, axis=1) + np.arange(n) * m
            if not finished:
                continue
            for q in finished:
                i = active[q]
                done_r[i], done_c[i] = r[q], c[q]
                iters[i], conv[i] = it, True
            keep = np.setdiff1d(np.arange(len(active)), finished)
            active = [active[q] for q in keep]
            s, rows, cols, flat = s[keep], rows[keep], cols[keep], flat[keep]
            r, c, watch = r[keep], c[keep], watch[keep]
    for q, i in enumerate(active):  # not converged within max_iter
        done_r[i], done_c[i] = r[q], c[q]
    out: list[Float] = []
    reports: list[FitReport] = []
    for i in range(k):
        seed = np.asarray(seeds[i], dtype=float)
        x = seed * np.outer(done_r[i], done_c[i])
        err = max(
            float(np.max(np.abs(np.asarray(row_targets[i]) - x.sum(axis=1)), initial=0.0)),
            float(np.max(np.abs(np.asarray(col_targets[i]) - x.sum(axis=0)), initial=0.0)),
        )
        out.append(x)
        reports.append(FitReport(iters[i], conv[i], float(gaps[i]), err))
    return out, reports


def _max_change(a_new: Float, c_new: Float, a_old: Float, c_old: Float, chunk: int = 16) -> float:
    """Largest ``|a_new[o] c_new[d] - a_old[o] c_old[d]|`` over o ≠ d and every slice.

    ``a`` and ``c`` are (places, birthplaces). Exact, in chunks of birthplaces so the
    temporary stays at ``places² × chunk`` doubles.
    """
    n, m = a_new.shape
    off = ~np.eye(n, dtype=bool)
    best = 0.0
    for lo in range(0, m, chunk):
        hi = min(m, lo + chunk)
        an, cn = a_new[:, lo:hi], c_new[:, lo:hi]
        ao, co = a_old[:, lo:hi], c_old[:, lo:hi]
        diff = np.abs(an[:, None, :] * cn[None, :, :] - ao[:, None, :] * co[None, :, :])
        diff[~off] = 0.0
        best = max(best, float(diff.max(initial=0.0)))
    return best


def ipf3_stayers(
    out_target: Float,
    in_target: Float,
    tol: float = TOL,
    max_iter: int = MAX_ITER,
) -> tuple[Float, Float, FitReport]:
    """The last fit of ``ffs_demo`` under the stayer assumption, without the 3-way array.

    migest fits ``Ipfp(seed, list(c(1, 3), c(2, 3)), list(out_target, in_target))`` with a
    seed of 1 for every origin ≠ destination cell and 0 on the diagonal, for every
    birthplace. Both margins contain the birthplace, so the fit is one independent
    origin × destination fit per birthplace, and from a seed of ``1 - I`` every iterate
    is ``a[o, b] * c[d, b]`` off the diagonal. A margin of that product is
    ``a[o, b] * (sum(c[:, b]) - c[o, b])``, so each sweep costs O(places × birthplaces)
    instead of O(places² × birthplaces). The stopping criterion, mipfp's largest change
    of any cell, is bounded from above and below from the factors and computed exactly
    only in the iterations where the bounds straddle ``tol``; the fit therefore stops at
    the same iteration as mipfp.

    ``out_target`` and ``in_target`` are (places, birthplaces): movers by place of
    residence at the start and at the end. Returns the factors ``a`` and ``c`` (the flow
    of birthplace b from o to d ≠ o is ``a[o, b] * c[d, b]``) and a :class:`FitReport`.
    """
    x0 = np.asarray(out_target, dtype=float)
    x1 = np.asarray(in_target, dtype=float)
    gap = abs(float(x0.sum()) - float(x1.sum()))
    a = np.ones_like(x0)
    c = np.ones_like(x1)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - `it` is reported after the loop
        a_old, c_old = a, c
        # margin (1, 3): row sums of a[o] c[d] over d != o
        a = a * _factor(x0, a * (c.sum(axis=0)[None, :] - c))
        # margin (2, 3): column sums over o != d, with the new a
        c = c * _factor(x1, c * (a.sum(axis=0)[None, :] - a))
        # bounds on max |a c - a_old c_old| over o != d (upper bound ignores the
        # diagonal, lower bound uses the cell (o, d) = (argmax, second best) pairs)
        da = np.abs(a - a_old)
        dc = np.abs(c - c_old)
        upper = float(np.max(da.max(axis=0) * c.max(axis=0) + a_old.max(axis=0) * dc.max(axis=0)))
        if upper < tol:
            converged = True
            break
        if _lower_bound(a, c, a_old, c_old) >= tol:
            continue
        if _max_change(a, c, a_old, c_old) < tol:
            converged = True
            break
    fit_out = a * (c.sum(axis=0)[None, :] - c)
    fit_in = c * (a.sum(axis=0)[None, :] - a)
    err = max(
        float(np.max(np.abs(fit_out - x0), initial=0.0)),
        float(np.max(np.abs(fit_in - x1), initial=0.0)),
    )
    return a, c, FitReport(it, converged, gap, err)


def _lower_bound(a: Float, c: Float, a_old: Float, c_old: Float) -> float:
    """A cheap lower bound on the largest cell change: a few off-diagonal cells exactly.

    For each birthplace, the cells in the row of the largest ``a`` and the column of the
    largest ``c`` (off the diagonal) are compared; the largest change among them cannot
    exceed the true maximum.
    """
    n, m = a.shape
    if n < 2:
        return 0.0
    cols = np.arange(m)
    best = 0.0
    for fac in (np.argmax(a, axis=0), np.argmax(np.abs(a - a_old), axis=0)):
        # row `fac` against every destination, the diagonal excluded
        row = np.abs(a[fac, cols][None, :] * c - a_old[fac, cols][None, :] * c_old)
        row[fac, cols] = 0.0
        best = max(best, float(row.max()))
    for fac in (np.argmax(c, axis=0), np.argmax(np.abs(c - c_old), axis=0)):
        col = np.abs(a * c[fac, cols][None, :] - a_old * c_old[fac, cols][None, :])
        col[fac, cols] = 0.0
        best = max(best, float(col.max()))
    return best
