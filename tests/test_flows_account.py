"""The demographic account: R's numbers on committed fixtures, its identities, the two
places where the port departs from migest on purpose (shares, a random cell), and IPF."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from migstock.flows.estimators import (
    ffs_demo,
    match_birthplace_tot,
    nb_scale_global,
    rescale_integer_sum,
)
from migstock.flows.ipf import TOL, ipf2, ipf2_many, ipf3_stayers

FIXTURES = Path(__file__).parent / "fixtures" / "flows"


def table(name: str) -> np.ndarray:
    return pd.read_csv(FIXTURES / name, index_col=0).to_numpy(dtype=float)


def synthetic12() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    vital = pd.read_csv(FIXTURES / "synthetic12_vital.csv")
    return (
        table("synthetic12_start.csv"),
        table("synthetic12_end.csv"),
        vital["births"].to_numpy(dtype=float),
        vital["deaths"].to_numpy(dtype=float),
    )


def realistic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stock tables shaped like the UN's: a few big places, sparse corridors, churn,
    one place with no emigrants and one whose migrants outnumber its population."""
    rng = np.random.default_rng(seed)
    pop = np.round(np.exp(rng.normal(15, 1.8, n)))
    s = np.zeros((n, n))
    e = np.zeros((n, n))
    for j in range(n):
        k = rng.choice(np.delete(np.arange(n), j), size=rng.integers(1, n // 2), replace=False)
        s[k, j] = np.round(pop[j] * rng.uniform(0.005, 0.4) * rng.dirichlet(np.ones(len(k)) / 2))
        e[k, j] = np.round(s[k, j] * rng.lognormal(0.1, 0.4, len(k)))
        e[k[: len(k) // 5], j] = 0
        s[j, j] = max(pop[j] - s[:, j].sum(), 0)
        e[j, j] = np.round(s[j, j] * rng.uniform(0.95, 1.15))
    s[n - 1, : n - 1] = 0  # no emigrants
    e[n - 1, : n - 1] = 0
    s[:, n - 2] *= 5  # migrants above the population: native born 0
    s[n - 2, n - 2] = 0
    return s, e


# R's numbers on the committed fixtures


def test_demographic_account_matches_r_on_a_synthetic_table_with_births_and_deaths() -> None:
    s1, s2, b, d = synthetic12()
    ours = ffs_demo(s1, s2, b, d).od()
    r = table("synthetic12_R_od.csv")
    np.testing.assert_allclose(ours, r, rtol=0, atol=1e-5)  # R wrote 6 decimals


def test_r_gives_the_remainder_to_a_random_cell_and_the_port_does_not() -> None:
    # R under another seed gave nb_scale_global's remainder to P01, not the largest cell:
    # a different result from the same input
    s1, s2, b, d = synthetic12()
    ours = ffs_demo(s1, s2, b, d).od()
    other = table("synthetic12_R_od_first_cell.csv")
    assert np.abs(ours - other).max() > 0.1
    assert np.abs(table("synthetic12_R_od.csv") - other).max() > 0.1


def test_demographic_account_matches_r_without_births_and_deaths() -> None:
    s1, s2, _, _ = synthetic12()
    np.testing.assert_allclose(
        ffs_demo(s1, s2).od(), table("synthetic12_R_od_novital.csv"), rtol=0, atol=1e-5
    )


# the mipfp trap: shares instead of counts


def test_r_returns_shares_where_the_port_returns_counts() -> None:
    s1, s2 = table("lone6_start.csv"), table("lone6_end.csv")
    r_shares = table("lone6_R_od.csv")
    assert r_shares.sum() == pytest.approx(1.0, abs=1e-8)  # what mipfp returned
    est = ffs_demo(s1, s2)
    od = est.od()
    # counts: as many movers as the tables imply, not a sum of 1
    assert od.sum() > 1e5
    assert (est.flows >= 0).all()
    # P05, the birthplace mipfp could not fit, was closed (20 % growth, partly rescaled)
    assert est.equalized[4] > 0
    assert np.count_nonzero(est.equalized) == 1
    assert est.unplaced.sum() == pytest.approx(0, abs=1e-6)
    # where both are defined, the port's shares are R's
    np.testing.assert_allclose(od / od.sum(), r_shares, rtol=0, atol=1e-8)


def test_a_fit_whose_targets_differ_slightly_still_returns_counts() -> None:
    seed = np.array([[5.0, 1.0, 2.0], [1.0, 7.0, 1.0], [3.0, 1.0, 9.0]])
    rows = np.array([1_000_000.0, 2_000_000.0, 3_000_000.0])
    cols = np.array([2_999_000.0, 1_000_000.0, 2_000_000.0])  # 1,000 short of the rows
    fitted, report = ipf2(seed, rows, cols)
    assert report.target_gap == pytest.approx(1000)
    assert fitted.sum() > 5.9e6  # counts (mipfp: shares summing to 1)
    np.testing.assert_allclose(fitted.sum(axis=0), cols)  # the last margin is met


def test_the_last_fit_never_returns_shares_on_real_shaped_tables() -> None:
    s1, s2 = realistic(60, 3)
    est = ffs_demo(s1, s2)
    assert est.od().sum() > 1e6
    assert est.reports[-1].target_gap < 1e-6 * est.od().sum()
    assert est.unplaced.sum() == pytest.approx(0, abs=1e-3)


# the random cell


def test_rescale_integer_sum_gives_the_remainder_to_the_largest_cell() -> None:
    # 10, 30, 20 scaled to 61: round(10.17, 30.5, 20.33) = 10, 30, 20 (halves to even);
    # the remainder 1 goes to 30, the largest (R: sample(2, 1), cell 1 or 2 at random)
    x = np.array([10.0, 30.0, 20.0])
    assert rescale_integer_sum(x, 61).tolist() == [10, 31, 20]
    assert rescale_integer_sum(x, 61).tolist() == [10, 31, 20]
    # a fractional remainder goes there too; ties to the first largest
    assert rescale_integer_sum(np.array([4.0, 9.0, 9.0]), 22.5).tolist() == [4, 9.5, 9]
    assert rescale_integer_sum(np.array([0.0, 0.0]), 7).tolist() == [7, 0]


def test_nb_scale_global_is_deterministic_and_closes_the_world_balance() -> None:
    s1, s2, b, d = synthetic12()
    a1, a2 = nb_scale_global(s1, s2, b, d)
    c1, c2 = nb_scale_global(s1, s2, b, d)
    assert np.array_equal(a1, c1)
    assert np.array_equal(a2, c2)
    assert a2.sum() - a1.sum() == pytest.approx(b.sum() - d.sum())
    off = ~np.eye(len(s1), dtype=bool)
    assert np.array_equal(a1[off], s1[off])  # only native-born cells change


def test_same_input_same_output_twice() -> None:
    s1, s2, b, d = synthetic12()
    first = ffs_demo(s1, s2, b, d)
    second = ffs_demo(s1, s2, b, d)
    assert np.array_equal(first.flows, second.flows)


# the account's identities


@pytest.mark.parametrize("vital", [False, True])
def test_start_plus_inflows_minus_outflows_is_the_end_stock(vital: bool) -> None:
    s1, s2 = realistic(40, 11)
    n = len(s1)
    rng = np.random.default_rng(5)
    b = np.round(np.diag(s1) * rng.uniform(0.02, 0.12, n)) if vital else None
    d = np.round(s1.sum(axis=0) * rng.uniform(0.01, 0.05, n)) if vital else None
    est = ffs_demo(s1, s2, b, d)
    f = est.flows  # [origin, destination, birthplace]
    idx = np.arange(n)
    moves = f.copy()
    moves[idx, idx, :] = 0
    inflow = moves.sum(axis=0).T  # [birthplace, place]
    outflow = moves.sum(axis=1).T
    # for each birthplace and place: start + in - out = end, within the IPF tolerance
    np.testing.assert_allclose(est.start + inflow - outflow, est.end, rtol=0, atol=TOL)
    np.testing.assert_allclose(est.start.sum(axis=1), est.end.sum(axis=1), atol=TOL)
    assert (f >= 0).all()
    assert (est.od() >= 0).all()
    # the account's end differs from match_birthplace_tot's end table only by migest's
    # scaling of the end movers: per birthplace, at most what that IPF left unmatched
    left = est.reports[0].margin_error + est.reports[1].margin_error
    assert np.abs(est.end_adjustment.sum(axis=1)).max() <= left + 1e-6
    # nb_scale_global split the gap between growth and births - deaths across both
    # tables: the account's start holds (start + end - births - deaths) / 2 persons
    half = (s1.sum() + s2.sum() - est.births.sum() - est.deaths.sum()) / 2
    np.testing.assert_allclose(est.start.sum(), half, rtol=1e-9)
    np.testing.assert_allclose(est.end.sum(), half, rtol=1e-9)


def test_fixture_account_closes_and_no_flow_is_negative() -> None:
    s1, s2, b, d = synthetic12()
    est = ffs_demo(s1, s2, b, d)
    f = est.flows
    np.testing.assert_allclose(f.sum(axis=1).T, est.start, atol=TOL)
    np.testing.assert_allclose(f.sum(axis=0).T, est.end, atol=TOL)
    assert (f >= 0).all()


def test_the_lean_result_has_the_same_flows() -> None:
    s1, s2 = realistic(30, 2)
    full = ffs_demo(s1, s2)
    lean = ffs_demo(s1, s2, full=False)
    np.testing.assert_allclose(lean.od(), full.od(), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(
        np.diag(lean.flows[:, :, 0]), np.einsum("iib->i", full.flows), rtol=1e-12
    )


# the IPF itself


def test_ipf2_stops_where_mipfp_stops() -> None:
    # mipfp: the first iteration in which no cell moved by tol or more
    rng = np.random.default_rng(1)
    seed = rng.uniform(0, 1000, (8, 8))
    rows = rng.uniform(500, 5000, 8)
    cols = rng.uniform(500, 5000, 8)
    cols *= rows.sum() / cols.sum()
    fitted, report = ipf2(seed, rows, cols, tol=1e-3)
    # the naive loop, cell by cell
    x = seed.copy()
    for it in range(1, 10_000):  # noqa: B007 - compared after the loop
        prev = x.copy()
        x *= np.where(x.sum(axis=1) > 0, rows / x.sum(axis=1), 0)[:, None]
        x *= np.where(x.sum(axis=0) > 0, cols / x.sum(axis=0), 0)[None, :]
        if np.abs(x - prev).max() < 1e-3:
            break
    assert report.iterations == it
    assert report.converged
    np.testing.assert_allclose(fitted, x, rtol=1e-12)


def test_ipf3_stayers_is_the_naive_three_way_fit() -> None:
    rng = np.random.default_rng(4)
    n = 6
    x0 = rng.uniform(0, 100, (n, n)) * (rng.random((n, n)) > 0.3)
    x1 = rng.uniform(0, 100, (n, n)) * (rng.random((n, n)) > 0.3)
    t1 = x1.sum(axis=0)
    x1 *= np.divide(x0.sum(axis=0), t1, out=np.zeros_like(t1), where=t1 > 0)[None, :]
    a, c, report = ipf3_stayers(x0, x1)
    got = a[:, None, :] * c[None, :, :]
    got[np.arange(n), np.arange(n), :] = 0
    seed = np.ones((n, n, n))
    seed[np.arange(n), np.arange(n), :] = 0
    x = seed
    for it in range(1, 100_000):  # noqa: B007 - compared after the loop
        prev = x.copy()
        m = x.sum(axis=1)
        x = x * np.divide(x0, m, out=np.zeros_like(m), where=(m > 0) & (x0 > 0))[:, None, :]
        m = x.sum(axis=0)
        x = x * np.divide(x1, m, out=np.zeros_like(m), where=(m > 0) & (x1 > 0))[None, :, :]
        if np.abs(x - prev).max() < TOL:
            break
    assert report.iterations == it
    np.testing.assert_allclose(got, x, rtol=1e-9, atol=1e-12)


def test_match_birthplace_tot_equalizes_birthplace_totals() -> None:
    s1, s2, _, _ = synthetic12()
    a1, a2 = nb_scale_global(s1, s2, np.zeros(12), np.zeros(12))
    m = match_birthplace_tot(a1, a2)
    np.testing.assert_allclose(m.m1.sum(axis=0), a1.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(m.m2.sum(axis=0), a2.sum(axis=0), rtol=1e-12)
    before = np.abs(a1.sum(axis=1) - a2.sum(axis=1)).max()
    after = np.abs(m.m1.sum(axis=1) - m.m2.sum(axis=1)).max()
    assert before > 1e5
    assert after < 0.1
    with pytest.raises(ValueError, match="method"):
        match_birthplace_tot(s1, s2, "closed")


def test_fits_run_side_by_side_are_the_separate_fits() -> None:
    rng = np.random.default_rng(9)
    seeds = [rng.uniform(0, 1000, (7, 7)) * (rng.random((7, 7)) > 0.2) for _ in range(3)]
    rows = [rng.uniform(100, 900, 7) for _ in range(3)]
    cols = [rng.permutation(r) for r in rows]  # same totals
    together, reports = ipf2_many(seeds, rows, cols)
    alone = [ipf2(s, r, c) for s, r, c in zip(seeds, rows, cols, strict=True)]
    assert len({rep.iterations for rep in reports}) > 1  # they stop at their own iteration
    for x, rep, (y, rep_alone) in zip(together, reports, alone, strict=True):
        assert rep == rep_alone
        np.testing.assert_array_equal(x, y)


def test_the_package_stands_apart_from_the_store_pipeline_and_site() -> None:
    # the estimator, its checks and the WPP reader: none of them needs the store
    code = (
        "import sys, migstock.flows.estimate, migstock.flows.checks, migstock.flows.wpp; "
        "bad = [m for m in sys.modules if m.split('.')[:2] in "
        "(['migstock', 'store'], ['migstock', 'pipeline'], ['migstock', 'site'])]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_recognising_a_wpp_file_imports_neither_numpy_nor_pandas() -> None:
    """The acquire step asks every CSV of the raw folder before pandas is imported."""
    code = (
        "import sys, migstock.flows.wpp_file, migstock.acquire; "
        "heavy = [m for m in ('numpy', 'pandas') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
