"""The review loop through the command line, on the real 2024 totals: run, accept the
Arab-region year-over-year findings, run again, change a value, spoil the file.

Each run costs seconds: the runs are made once, in order, by the module's fixture, each
in a process of its own, as a steward types them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

pytestmark = pytest.mark.slow

TOTALS_2024 = "undesa_pd_2024_ims_stock_by_sex_and_destination.xlsx"
IRAQ_ROW = 145  # sheet 'Table 1': column 7 = 1995 both sexes, column 15 = 1995 males
MIGSTOCK = str(Path(sys.executable).with_name("migstock"))
REASON = "Real features of the data: refugee inflows (UN DESA notes)"


@dataclass
class Done:
    returncode: int
    output: str  # stdout and stderr


@dataclass
class Story:
    root: Path
    reviewed: Path
    first: Done
    listed: list[dict]
    accepted_ids: list[str]
    accept: Done
    second: Done
    after_second: list[dict]
    open_after_second: Done
    third: Done
    after_third: list[dict]
    spoiled: Done
    listed_spoiled: Done


def migstock(*args: str, reviewed: Path) -> Done:
    environment = {**os.environ, "MIGSTOCK_REVIEWED": str(reviewed), "COLUMNS": "200"}
    environment.pop("PREFECT_API_URL", None)  # the plain, in-process door
    done = subprocess.run(
        [MIGSTOCK, *args], capture_output=True, text=True, env=environment, timeout=300
    )
    return Done(done.returncode, done.stdout + done.stderr)


def findings(db: Path, reviewed: Path, *extra: str) -> list[dict]:
    done = migstock("review", "--db", str(db), "--format", "json", *extra, reviewed=reviewed)
    assert done.returncode == 0, done.output
    return json.loads(done.output)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, official_dir: Path) -> Story:
    root = tmp_path_factory.mktemp("review-cli")
    raw, db, reviewed = root / "raw", root / "curated" / "migstock.duckdb", root / "reviewed.toml"
    raw.mkdir()
    shutil.copy(official_dir / TOTALS_2024, raw / TOTALS_2024)
    run = ["run", "--raw-dir", str(raw), "--db", str(db)]

    first = migstock(*run, reviewed=reviewed)
    listed = findings(db, reviewed)
    arab = [f["id"] for f in listed if f["check"] == "year_over_year" and f["arab"]]
    accept = migstock(
        "review", "accept", *arab, "--reason", REASON, "--by", "Amal Haddad",
        "--db", str(db), reviewed=reviewed,
    )  # fmt: skip
    second = migstock(*run, "--force", reviewed=reviewed)
    after_second = findings(db, reviewed, "--all")
    open_after_second = migstock("review", "--db", str(db), reviewed=reviewed)

    book = openpyxl.load_workbook(raw / TOTALS_2024)
    sheet = book["Table 1"]
    sheet.cell(IRAQ_ROW, 7).value += 5_000  # males + females still equal the total
    sheet.cell(IRAQ_ROW, 15).value += 5_000
    book.save(raw / TOTALS_2024)
    third = migstock(*run, reviewed=reviewed)
    after_third = findings(db, reviewed, "--all")

    text = reviewed.read_text(encoding="utf-8")
    reviewed.write_text(text.replace('by = "Amal Haddad"', 'by = "Amal Haddad', 1), "utf-8")
    spoiled = migstock(*run, "--force", reviewed=reviewed)
    listed_spoiled = migstock("review", "--db", str(db), reviewed=reviewed)
    return Story(
        root, reviewed, first, listed, arab, accept, second, after_second,
        open_after_second, third, after_third, spoiled, listed_spoiled,
    )  # fmt: skip


def test_review_lists_open_findings_with_id_place_year_sex_and_cell(story: Story) -> None:
    assert story.first.returncode == 0, story.first.output
    keys = {"id", "check", "revision", "place_code", "year", "sex", "file", "sheet", "row"}
    assert story.listed and all(keys | {"status"} <= set(f) for f in story.listed)
    assert all(f["status"] == "open" for f in story.listed)
    iraq = next(
        f
        for f in story.listed
        if (f["check"], f["place_code"], f["year"], f["sex"])
        == ("year_over_year", 368, 1995, "total")
    )
    assert (iraq["file"], iraq["sheet"], iraq["row"]) == (TOTALS_2024, "Table 1", IRAQ_ROW)
    assert 20 <= len(story.accepted_ids) <= 40
    assert story.accept.returncode == 0, story.accept.output
    assert f"accepted {len(story.accepted_ids)} findings in {story.reviewed}" in story.accept.output


def test_a_second_run_lists_them_as_accepted_with_the_same_exit_code(story: Story) -> None:
    assert story.second.returncode == story.first.returncode, story.second.output
    status = {f["id"]: f for f in story.after_second}
    assert all(status[i]["status"] == "accepted" for i in story.accepted_ids)
    assert all(status[i]["reason"] == REASON for i in story.accepted_ids)
    others = [f for f in story.after_second if f["id"] not in story.accepted_ids]
    assert others and all(f["status"] == "open" for f in others)
    # the console: open findings first, the accepted ones collapsed into one line
    output = story.second.output
    accepted_line = next(line for line in output.splitlines() if "rows accepted" in line)
    assert f"{len(story.accepted_ids)} rows accepted" in accepted_line and REASON in accepted_line
    warning = next(line for line in output.splitlines() if line.startswith("warning revision"))
    assert output.index(warning) < output.index(accepted_line)
    # `migstock review` without --all: the accepted ones are not listed
    listing = story.open_after_second.output
    assert not any(i in listing for i in story.accepted_ids)
    assert f"{len(story.accepted_ids)} accepted (--all lists them)" in listing


def test_a_changed_value_opens_its_finding_again(story: Story) -> None:
    assert story.third.returncode == story.first.returncode, story.third.output
    iraq = next(
        f
        for f in story.after_third
        if (f["check"], f["place_code"], f["year"], f["sex"])
        == ("year_over_year", 368, 1995, "total")
    )
    assert iraq["id"] not in story.accepted_ids and iraq["status"] == "open"
    assert "the values changed; accepted by" in iraq["lapsed"]
    assert "83,638 in the previous reference year, 204,460 in 1995" in iraq["text"]


def test_a_malformed_file_is_one_line_and_the_run_goes_on(story: Story) -> None:
    assert story.spoiled.returncode == story.first.returncode, story.spoiled.output
    lines = [line for line in story.spoiled.output.splitlines() if str(story.reviewed) in line]
    assert len(lines) == 1 and lines[0].startswith("warning: reviewed findings:")
    assert "not valid TOML" in lines[0] and "line " in lines[0]
    assert "every finding is treated as open" in lines[0]
    assert "rows accepted" not in story.spoiled.output  # everything open again
    assert "Traceback" not in story.spoiled.output
    listing = [line for line in story.listed_spoiled.output.splitlines() if "warning:" in line]
    assert len(listing) == 1 and str(story.reviewed) in listing[0]
    assert story.listed_spoiled.returncode == 0
