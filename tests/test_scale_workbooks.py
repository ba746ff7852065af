"""The full-size benchmark's workbooks (``migstock.demo.scale``), scaled down to the 22
Arab countries: each of the twelve is recognised as its catalog revision and dataset,
parses to the row count the generator announces, and its numbers add up the way the
pipeline checks them (so the full-size run loads with exit 0)."""

from __future__ import annotations

from pathlib import Path

import pytest

from migstock.acquire.provenance import local_file
from migstock.catalog import CATALOG
from migstock.demo.scale import MANIFEST, README, SYNTHETIC_NOTE, write_scale_workbooks
from migstock.parse.prepare import PreparedFile, combined_rows, group_by_revision, prepare_file
from migstock.parse.read import read_workbook
from migstock.regions import ARAB_COUNTRIES
from migstock.validate.reconcile import EXACT_SUMS, reconciliation_frame


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, list[PreparedFile]]:
    directory = tmp_path_factory.mktemp("scale")
    manifest = write_scale_workbooks(directory, subset=sorted(ARAB_COUNTRIES), processes=1)
    prepared = [
        prepare_file(local_file(directory / f["file"], "raw-dir")) for f in manifest["files"]
    ]
    return directory, manifest, prepared


def test_every_catalog_file_in_its_layout(small) -> None:
    directory, manifest, prepared = small
    expected = {  # the twelve of the stocks: the age workbooks (#27) are not part of the set
        s.file_name: s
        for entry in CATALOG
        for s in entry.files
        if s.dataset in ("bilateral", "destination_totals")
    }
    assert sorted(f["file"] for f in manifest["files"]) == sorted(expected)
    assert (directory / "UN_MigrantStockByOriginAndDestination_2013.xls").read_bytes()[:4] == (
        b"\xd0\xcf\x11\xe0"  # the .xls (OLE2) container, as the UN published 2013
    )
    for announced, item in zip(manifest["files"], prepared, strict=True):
        source = expected[announced["file"]]
        assert (item.revision, item.dataset) == (source.revision, source.dataset), announced
        assert len(item.rows) == announced["tidy_rows"], announced
        assert not item.notes, (announced["file"], item.notes)  # nothing a real file has is missing


def test_marked_synthetic(small) -> None:
    directory, manifest, _ = small
    assert manifest["synthetic"] and (directory / MANIFEST).exists()
    assert "SYNTHETIC" in (directory / README).read_text(encoding="utf-8")
    for f in manifest["files"]:
        book = read_workbook(directory / f["file"])
        table = book.sheets["Table 1"]
        assert (table.iloc[:13] == SYNTHETIC_NOTE).to_numpy().any(), f["file"]


def test_numbers_add_up_as_the_pipeline_checks(small) -> None:
    _, _, prepared = small
    for revision, files in group_by_revision(prepared).items():
        refugees = next((f.refugees for f in files if f.refugees is not None), None)
        checks = reconciliation_frame(
            combined_rows(files, "bilateral"),
            combined_rows(files, "destination_totals"),
            refugees=refugees,
        )
        # exact sums that reconcile are dropped from the frame: none may be left
        assert not checks["check"].isin(EXACT_SUMS).any(), (revision, checks.head())
        assert checks.attrs["checked"]["bilateral_vs_totals"] > 0
        present = checks[checks["check"] == "arab_countries_present"]
        assert (present["actual"] == len(ARAB_COUNTRIES)).all(), revision
        shares = checks[checks["check"] == "refugee_share"]
        assert (revision == 2024) == shares.empty
        assert (shares["abs_difference"] <= 0.01).all(), revision


def test_the_check_rows_do_not_depend_on_the_order_of_the_rows(small) -> None:
    """DuckDB's GROUP BY returns groups in no fixed order: the same rows in another order
    give the same check rows, in the same order (the same samples in every run's results)."""
    _, _, prepared = small
    files = group_by_revision(prepared)[2024]
    bilateral = combined_rows(files, "bilateral")
    totals = combined_rows(files, "destination_totals")
    as_read = reconciliation_frame(bilateral, totals)
    shuffled = reconciliation_frame(
        bilateral.sample(frac=1, random_state=1).reset_index(drop=True),
        totals.sample(frac=1, random_state=2).reset_index(drop=True),
    )
    assert len(as_read) > 0
    assert as_read.equals(shuffled)
