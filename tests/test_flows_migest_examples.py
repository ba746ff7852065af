"""The flows port against migest 2.0.5's documented examples of ffs_demo and ffs_diff.

Inputs and printed outputs are typed from migest's help pages (``?ffs_demo``,
``?ffs_diff``, their rendered examples). R fills ``s1[,] <- c(...)`` by column, hence
``order="F"`` where the examples assign that way. Each output is compared to the digits
R printed.
"""

from __future__ import annotations

import numpy as np
import pytest

from migstock.flows.estimators import ffs_demo, ffs_diff


def by_row(values: list[float]) -> np.ndarray:
    return np.array(values, dtype=float).reshape(4, 4)


def by_col(values: list[float]) -> np.ndarray:
    return np.array(values, dtype=float).reshape(4, 4, order="F")


def printed_digits(x: float) -> float:
    """Half a unit in the last digit R printed (7 significant digits, or whole numbers)."""
    return 0.5e-6 * max(abs(x), 1.0)


def assert_printed(got: np.ndarray, printed: list[list[float]], atol: float | None = None) -> None:
    want = np.array(printed, dtype=float)
    tol = np.vectorize(printed_digits)(want) if atol is None else np.full_like(want, atol)
    assert got.shape == want.shape
    bad = np.abs(got - want) > tol
    assert not bad.any(), f"differs at {np.argwhere(bad).tolist()}:\n{got}\n!=\n{want}"


# demographic research and science paper example (stocks printed by addmargins)
DR_S1 = by_row([1000, 100, 10, 0, 55, 555, 50, 5, 80, 40, 800, 40, 20, 25, 20, 200])
DR_S2 = by_row([950, 100, 60, 0, 80, 505, 75, 5, 90, 30, 800, 40, 40, 45, 0, 180])
# international migration review paper example
IMR_S1 = by_col([100, 20, 10, 20, 10, 55, 40, 25, 10, 25, 140, 20, 0, 10, 65, 200])
IMR_S2 = by_col([70, 25, 10, 40, 30, 60, 55, 45, 10, 10, 140, 0, 10, 15, 50, 180])
# demographic research paper example with births and deaths
BD_S1 = by_col([1000, 55, 80, 20, 100, 555, 40, 25, 10, 50, 800, 20, 0, 5, 40, 200])
BD_S2 = by_col([1060, 45, 70, 30, 60, 540, 75, 30, 10, 40, 770, 20, 10, 0, 70, 230])
BD_D = [70, 30, 50, 10]


def test_the_typed_stocks_are_the_printed_tables() -> None:
    # addmargins(s1), addmargins(s2) of the first and second examples
    assert DR_S1.sum(axis=1).tolist() == [1110, 665, 960, 265]
    assert DR_S1.sum(axis=0).tolist() == [1155, 720, 880, 245]
    assert DR_S2.sum(axis=0).tolist() == [1160, 680, 935, 225]
    assert IMR_S1[2].tolist() == [10, 40, 140, 65]
    assert IMR_S2.sum(axis=0).tolist() == [145, 190, 160, 255]


def test_e0_demographic_research_and_science_example_flow_array() -> None:
    e0 = ffs_demo(DR_S1, DR_S2)
    # e0[, , pob = A] ... [, , pob = D] as printed (orig x dest)
    printed = {
        0: [[950, 0, 50, 0], [0, 100, 0, 0], [0, 0, 10, 0], [0, 0, 0, 0]],
        1: [[55, 0, 0, 0], [25, 505, 25, 0], [0, 0, 50, 0], [0, 0, 0, 5]],
        2: [[80, 0, 0, 0], [10, 30, 0, 0], [0, 0, 800, 0], [0, 0, 0, 40]],
        3: [[20, 0, 0, 0], [0, 25, 0, 0], [10, 10, 0, 0], [10, 10, 0, 180]],
    }
    for pob, table in printed.items():
        assert_printed(e0.flows[:, :, pob], table)
    assert_printed(e0.od(), [[0, 0, 50, 0], [35, 0, 25, 0], [10, 10, 0, 0], [10, 10, 0, 0]])


def test_e1_international_migration_review_example() -> None:
    e1 = ffs_demo(IMR_S1, IMR_S2)
    assert_printed(e1.od(), [[0, 20, 0, 10], [0, 0, 0, 0], [15, 15, 0, 5], [10, 25, 0, 0]])


@pytest.mark.parametrize(
    ("method", "printed"),
    [
        (
            "open-dr",  # e3
            [
                [0.00000, 8.502866, 0.0000000, 3.695332],
                [26.42296, 0.000000, 0.4234563, 9.855274],
                [0.00000, 34.183358, 0.0000000, 25.077888],
                [11.46761, 10.933241, 1.3928875, 0.000000],
            ],
        ),
        (
            "open",  # e4
            [
                [0.00000, 8.897732, 0.0000000, 3.852711],
                [26.81098, 0.000000, 0.4296748, 10.000000],
                [0.00000, 35.677466, 0.0000000, 26.145924],
                [11.62571, 11.251175, 1.4120903, 0.000000],
            ],
        ),
    ],
)
def test_e3_e4_open_system_examples(method: str, printed: list[list[float]]) -> None:
    est = ffs_demo(BD_S1, BD_S2, [80, 20, 40, 60], BD_D, match_birthplace_tot_method=method)
    # printed with 7 significant digits in the widest column: 5e-6 covers every cell
    assert_printed(est.od(), printed, atol=5e-6)


def test_e5_science_supplementary_example_with_births_and_deaths() -> None:
    e5 = ffs_demo(BD_S1, BD_S2, [80, 20, 60, 60], BD_D)
    assert_printed(
        e5.od(),
        [
            [0.000000000, 3.328563, 0.0000000, 3.242990],
            [34.120952437, 0.000000, 0.5838738, 9.809336],
            [0.004365738, 27.127753, 0.0000000, 25.711331],
            [12.446119999, 9.058478, 2.2595262, 0.000000],
        ],
        atol=5e-7,
    )
    assert e5.od().sum() == pytest.approx(127.693289, abs=5e-7)


def test_e6_imr_supplementary_example_with_too_many_births() -> None:
    # "Too many births in region B": B's births are spread over its column
    s1 = by_col([100, 20, 10, 20, 10, 55, 40, 25, 10, 25, 140, 20, 0, 10, 65, 200])
    s2 = by_col([75, 20, 30, 30, 25, 45, 40, 30, 5, 30, 150, 20, 0, 15, 60, 230])
    e6 = ffs_demo(s1, s2, [10, 50, 25, 60], [30, 10, 40, 10])
    assert e6.births[:, 1].sum() == pytest.approx(50)
    assert np.count_nonzero(e6.births[:, 1]) > 1
    assert_printed(
        e6.od(),
        [
            [0.00000, 8.126216, 0.000000, 0.000000],
            [15.45535, 0.000000, 18.081832, 5.712864],
            [0.00000, 1.125679, 0.000000, 0.000000],
            [17.66941, 0.000000, 8.043363, 0.000000],
        ],
        atol=5e-6,
    )


def test_e7_scientific_data_2019_example() -> None:
    s1 = by_col([100, 80, 30, 60, 10, 180, 10, 70, 10, 10, 140, 10, 0, 90, 40, 160])
    s2 = by_col([95, 75, 55, 35, 5, 225, 0, 25, 15, 5, 115, 25, 5, 55, 50, 215])
    e7 = ffs_demo(s1, s2)
    assert_printed(
        e7.od(),
        [
            [0.000000, 5, 7.857143, 22.142857],
            [7.142857, 0, 12.142857, 40.714286],
            [17.857143, 5, 0.000000, 7.142857],
            [0.000000, 35, 0.000000, 0.000000],
        ],
    )
    assert e7.od().sum() == pytest.approx(160)


DIFF_S1 = by_row([100, 10, 10, 0, 20, 55, 25, 10, 10, 40, 140, 65, 20, 25, 20, 200])
DIFF_S2 = by_row([75, 25, 5, 15, 20, 45, 30, 15, 30, 40, 150, 35, 10, 50, 5, 200])


def test_ffs_diff_zero_example() -> None:
    got = ffs_diff(DIFF_S1, DIFF_S2, "zero")
    assert got.tolist() == [[0, 15, 0, 15], [0, 0, 5, 5], [20, 0, 0, 0], [0, 25, 0, 0]]


def test_ffs_diff_return_example() -> None:
    got = ffs_diff(DIFF_S1, DIFF_S2, "return")
    assert got.tolist() == [[0, 15, 0, 25], [0, 0, 5, 5], [25, 0, 0, 15], [0, 25, 30, 0]]


def test_ffs_diff_rejects_an_unknown_decrease() -> None:
    with pytest.raises(ValueError, match="decrease"):
        ffs_diff(DIFF_S1, DIFF_S2, "ignore")
