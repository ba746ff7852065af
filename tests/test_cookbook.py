"""Every query of docs/cookbook.md runs against a store built from real UN files."""

import re
from pathlib import Path

import duckdb
import pytest

COOKBOOK = Path(__file__).resolve().parents[1] / "docs" / "cookbook.md"
QUERIES = re.findall(r"```sql\n(.*?)```", COOKBOOK.read_text(encoding="utf-8"), re.S)


def test_the_cookbook_answers_at_least_eight_questions() -> None:
    assert len(QUERIES) >= 8


@pytest.mark.parametrize("sql", QUERIES, ids=[f"q{i + 1}" for i in range(len(QUERIES))])
def test_cookbook_query_returns_rows(real_store: Path, sql: str) -> None:
    with duckdb.connect(str(real_store), read_only=True) as con:
        rows = con.execute(sql).fetchall()
    assert rows, "the query ran but returned nothing on the real data"


def test_egyptians_abroad_come_from_the_real_2024_values(real_store: Path, export_2024) -> None:
    sql = re.search(r"Egyptians abroad.*?```sql\n(.*?)```", COOKBOOK.read_text(), re.S).group(1)
    with duckdb.connect(str(real_store), read_only=True) as con:
        top = con.execute(sql).fetchone()
    egypt = export_2024[export_2024["Location code of origin"] == 818]
    best = egypt.sort_values("2024_total").iloc[-1]
    assert top[1] == best["2024_total"]
