"""The plain pipeline: the brief and the country pages are by-products of a load."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from migstock import pipeline
from migstock.acquire import Scope
from migstock.outcomes import Outcome, Status


def test_a_brief_or_pages_that_cannot_be_built_warn_and_the_load_stands(
    official_dir: Path, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(official_dir / "UN_MigrantStockTotal_2017.xlsx", raw)
    stages = pipeline.Stages(
        brief=lambda db: "data brief not written: no fonts",
        site=lambda db: "country pages not written: no room",
    )
    summary = pipeline.run(Scope.of_run(raw), tmp_path / "c" / "m.duckdb", stages=stages)
    assert not summary.failed
    assert Outcome("revision 2017", Status.LOADED) in [
        Outcome(o.subject, o.status) for o in summary.outcomes
    ]
    assert Outcome("data brief", Status.WARNING, "data brief not written: no fonts") in (
        summary.outcomes
    )
    assert Outcome("country pages", Status.WARNING, "country pages not written: no room") in (
        summary.outcomes
    )
    assert summary.brief == [] and summary.site is None


def test_a_reader_raising_anything_rejects_that_file_alone(
    official_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever one file's reading raises (zipfile, XML, calamine, a bug) is that file's
    rejection in one line; the other files load."""
    import zipfile
    from xml.etree.ElementTree import ParseError

    from python_calamine import XmlError

    from migstock.parse import prepare

    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(official_dir / "UN_MigrantStockTotal_2017.xlsx", raw)
    errors: dict[str, Exception] = {
        "crc.xlsx": zipfile.BadZipFile("Bad CRC-32 for file 'xl/worksheets/sheet1.xml'"),
        "xml.xlsx": ParseError("not well-formed (invalid token): line 1, column 2"),
        "calamine.xlsx": XmlError("Xml error: unexpected end\nof the sheet"),
        "bug.xlsx": KeyError("Arab region"),
    }
    for name in errors:
        (raw / name).write_bytes(b"PK\x03\x04" + name.encode())  # never read for real
    real = prepare.read_workbook

    def read_workbook(path: Path) -> object:
        if path.name in errors:
            raise errors[path.name]
        return real(path)

    monkeypatch.setattr(prepare, "read_workbook", read_workbook)
    db = tmp_path / "c" / "m.duckdb"
    stages = pipeline.Stages(brief=lambda db: [], site=lambda db: "not built here")
    summary = pipeline.run(Scope.of_run(raw), db, stages=stages)

    rejected = {o.subject: o.message for o in summary.outcomes if o.status is Status.REJECTED}
    assert rejected == {
        "crc.xlsx": "could not be read (BadZipFile: Bad CRC-32 for file "
        "'xl/worksheets/sheet1.xml'); the file was not loaded (if it opens in Excel, please "
        "report this error)",
        "xml.xlsx": "could not be read (ParseError: not well-formed (invalid token): line 1, "
        "column 2); the file was not loaded (if it opens in Excel, please report this error)",
        "calamine.xlsx": "could not be read (XmlError: Xml error: unexpected end of the "
        "sheet); the file was not loaded (if it opens in Excel, please report this error)",
        "bug.xlsx": "could not be read (KeyError: 'Arab region'); the file was not loaded (if "
        "it opens in Excel, please report this error)",
    }
    assert summary.failed  # exit 1: files were rejected
    assert Outcome("revision 2017", Status.LOADED) in [
        Outcome(o.subject, o.status) for o in summary.outcomes
    ]
    with duckdb.connect(str(db), read_only=True) as con:
        loaded = con.execute("SELECT DISTINCT revision FROM destination_totals").fetchall()
    assert loaded == [(2017,)]
