"""Every official workbook in shared loads as the UN published it: known values of
every revision (SOURCES.md), checked on a store built from all of them."""

from pathlib import Path

import duckdb
import pytest

from migstock.parse import parse_workbook
from migstock.parse.read import read_workbook

#: revision == year: (World total, Saudi Arabia total/male/female, Arab-22 total/male/female)
KNOWN = {
    2015: (243_700_236, (10_185_945, 6_938_598, 3_247_347), (34_764_700, 23_202_513, 11_562_187)),
    2017: (257_715_425, (12_185_284, 8_341_564, 3_843_720), (38_076_401, 25_569_188, 12_507_213)),
    2019: (271_642_105, (13_122_338, None, None), (40_390_791, 27_052_376, 13_338_415)),
    2020: (280_598_105, (13_454_842, 9_235_130, 4_219_712), (41_416_894, 27_806_942, 13_609_952)),
    2024: (304_021_813, (13_683_841, 10_637_190, 3_046_651), (44_540_617, 30_134_518, 14_406_099)),
}
SEXES = ("total", "male", "female")


def _value(db: Path, sql: str, *parameters: object) -> object:
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(sql, list(parameters)).fetchone()
    assert row is not None, sql
    return row[0]


def test_every_official_workbook_parses(official_dir: Path) -> None:
    found = {}
    for path in sorted(official_dir.glob("*.xlsx")):
        parsed = parse_workbook(read_workbook(path))
        found[(parsed.revision, parsed.dataset)] = path.name
    assert set(found) == {
        (2015, "bilateral"),
        (2015, "destination_totals"),
        (2017, "destination_totals"),
        (2019, "destination_totals"),
        (2020, "destination_totals"),
        (2024, "destination_totals"),
    }


@pytest.mark.parametrize("number", sorted(KNOWN))
def test_world_saudi_arabia_and_arab_region_by_sex(real_store: Path, number: int) -> None:
    world, saudi, arab = KNOWN[number]
    stock = (
        "SELECT migrants FROM destination_totals "
        "WHERE revision = ? AND year = ? AND destination_code = ? AND sex = ?"
    )
    assert _value(real_store, stock, number, number, 900, "total") == world
    for sex, expected in zip(SEXES, saudi, strict=True):
        if expected is not None:
            assert _value(real_store, stock, number, number, 682, sex) == expected
    region = (
        "SELECT migrants FROM arab_region_totals "
        "WHERE revision = ? AND year = ? AND region = 'Arab region' AND sex = ?"
    )
    for sex, expected in zip(SEXES, arab, strict=True):
        assert _value(real_store, region, number, number, sex) == expected
    reporting = (
        "SELECT countries_reporting FROM arab_region_totals "
        "WHERE revision = ? AND year = ? AND region = 'Arab region' AND sex = 'total'"
    )
    assert _value(real_store, reporting, number, number) == 22


def test_population_and_migrant_share_2024(real_store: Path) -> None:
    """2024 Table 2 carries data-type letters under 'Location code': rows align by index."""
    row = (
        "SELECT {} FROM destination_totals "
        "WHERE revision = 2024 AND year = 2024 AND destination_code = ? AND sex = 'total'"
    )
    assert _value(real_store, row.format("total_population"), 682) == 33_962_757
    assert round(_value(real_store, row.format("migrant_share"), 682), 2) == 40.29
    # every destination of Table 1 got its population: none left empty by the alignment
    assert (
        _value(
            real_store,
            "SELECT count(*) FROM destination_totals WHERE revision = 2024 "
            "AND total_population IS NULL",
        )
        == 0
    )
    assert _value(real_store, row.format("total_population"), 900) == 8_161_972_572


@pytest.mark.parametrize(
    ("number", "code", "population", "share"),
    [
        (2015, 682, 31_540_372, 32.29),
        (2017, 682, 32_938_213, 36.99),
        (2020, 400, None, None),  # Jordan: present, with both measures
    ],
)
def test_population_and_share_of_older_revisions(
    real_store: Path, number: int, code: int, population: int | None, share: float | None
) -> None:
    sql = (
        "SELECT total_population, migrant_share FROM destination_totals "
        "WHERE revision = ? AND year = ? AND destination_code = ? AND sex = 'total'"
    )
    with duckdb.connect(str(real_store), read_only=True) as con:
        found = con.execute(sql, [number, number, code]).fetchone()
    assert found is not None and found[0] is not None and found[1] is not None
    if population is not None:
        assert found[0] == population and round(found[1], 2) == share


def test_2020_as_revised_in_2024_and_revision_changes(real_store: Path) -> None:
    changes = (
        "SELECT migrants, previous_revision, previous_migrants, change FROM revision_changes "
        "WHERE year = 2020 AND sex = 'total' AND destination_code = 682 AND revision = 2024"
    )
    with duckdb.connect(str(real_store), read_only=True) as con:
        row = con.execute(changes).fetchone()
    assert row == (13_071_258, 2020, 13_454_842, 13_071_258 - 13_454_842)


def test_2015_bilateral_table_16_and_its_totals_workbook_agree(real_store: Path) -> None:
    bilateral = _value(
        real_store,
        "SELECT sum(migrants) FROM bilateral_stock b JOIN locations l "
        "ON l.code = b.destination_code AND l.arab_region "
        "WHERE revision = 2015 AND year = 2015 AND sex = 'total' AND origin_kind = 'total'",
    )
    assert bilateral == 34_764_700 == KNOWN[2015][2][0]
