"""The head start: what it parses and validates while Prefect starts is exactly what the
flow's tasks would compute, and it is taken only for the very same inputs."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from migstock import head_start, pipeline
from migstock.acquire import Scope
from migstock.acquire.provenance import RawFile, local_file
from migstock.catalog import revision
from migstock.demo.samples import write_demo_workbooks
from migstock.errors import InputError, MigstockError
from migstock.head_start import HeadStart
from migstock.validate.gx import ValidationReport
from migstock.validation_worker import RemoteValidator


@pytest.fixture(scope="module")
def demo_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("head-start") / "raw"
    write_demo_workbooks(raw)
    return raw


def _raws(folder: Path) -> list[RawFile]:
    return [local_file(path, "local") for path in sorted(folder.glob("*.xls*"))]


def _started(folder: Path, db: Path, **options: bool) -> HeadStart:
    return HeadStart(db, Scope(folder, raw_dir_given=True), None, brief=False, **options)


@contextlib.contextmanager
def _head_start(folder: Path, db: Path, **options: bool) -> Iterator[HeadStart]:
    """A head start on ``folder`` (``--raw-dir``), closed at the end."""
    started = _started(folder, db, **options)
    try:
        yield started
    finally:
        started.close()


def _results(report: ValidationReport) -> list[dict]:
    return [result.as_dict() for result in report.results]


def test_the_flow_gets_what_it_would_have_computed(demo_raw: Path, tmp_path: Path) -> None:
    db = tmp_path / "curated" / "migstock.duckdb"
    with _head_start(demo_raw, db) as started:
        prepared = []
        for raw in _raws(demo_raw):
            item = started.prepared(raw)
            again = pipeline.prepare_file(raw)
            pd.testing.assert_frame_equal(item.rows, again.rows)
            assert (item.revision, item.dataset, item.notes) == (
                again.revision,
                again.dataset,
                again.notes,
            )
            assert started.prepared(raw) is item  # parsed once
            prepared.append(item)
        validator = started.validator()
        assert validator is not None
        groups = pipeline.group_by_revision(prepared)
        assert len(groups) == 6  # every revision of the catalog, validated ahead
        for number, files in groups.items():
            run = started.reports.run_id
            ahead = started.validation(validator, number, files, db, run)
            assert ahead is not None, number
            now = pipeline.validate_revision(validator, revision(number), files, db, run)
            assert _results(ahead) == _results(now)
            assert ahead.passed and ahead.checked == now.checked
            # taken once: asking again means validating again
            assert started.validation(validator, number, files, db, run) is None


@pytest.fixture
def forgotten(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The revisions whose results a validator was told to leave out of Data Docs."""
    revisions: list[int] = []
    monkeypatch.setattr(
        RemoteValidator, "forget", lambda self, number: revisions.append(number), raising=False
    )
    return revisions


def test_a_report_is_taken_only_for_the_same_inputs(
    demo_raw: Path, tmp_path: Path, forgotten: list[int]
) -> None:
    db = tmp_path / "curated" / "migstock.duckdb"
    with _head_start(demo_raw, db) as started:
        prepared = [started.prepared(raw) for raw in _raws(demo_raw)]
        groups = pipeline.group_by_revision(prepared)
        validator = started.validator()
        run = started.reports.run_id
        _bilateral, totals_2015 = groups[2015]
        assert started.validation(validator, 2015, [totals_2015], db, run) is None  # fewer files
        assert started.validation(validator, 2017, groups[2017], db, "another run") is None
        assert started.validation(object(), 2019, groups[2019], db, run) is None  # other GX
        copy = pipeline.PreparedFile(**vars(groups[2020][0]))
        other_objects = [copy, *groups[2020][1:]]
        assert started.validation(validator, 2020, other_objects, db, run) is None
        db.parent.mkdir(parents=True, exist_ok=True)
        db.write_bytes(b"")  # a store published meanwhile: its rows were not cross-checked
        assert started.validation(validator, 2024, groups[2024], db, run) is None
        assert started.validation(validator, 2013, groups[2013], db, run) is None
        # each report not taken is left out of the Data Docs; 2019 was asked for by
        # another validator: it stays until the flow is done with validating
        assert sorted(forgotten) == [2013, 2015, 2017, 2020, 2024]
        started.discard_untaken()
        assert sorted(forgotten) == [2013, 2015, 2017, 2019, 2020, 2024]


def test_revisions_validated_ahead_and_not_asked_for_leave_the_data_docs(
    demo_raw: Path, tmp_path: Path, forgotten: list[int]
) -> None:
    db = tmp_path / "curated" / "migstock.duckdb"
    with _head_start(demo_raw, db) as started:
        prepared = [started.prepared(raw) for raw in _raws(demo_raw)]
        files = pipeline.group_by_revision(prepared)[2019]
        validator = started.validator()
        assert started.validation(validator, 2019, files, db, started.reports.run_id)
        started.discard_untaken()
        assert sorted(forgotten) == [2013, 2015, 2017, 2020, 2024]


def test_a_file_changed_after_the_head_start_is_parsed_again(
    demo_raw: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "raw"
    shutil.copytree(demo_raw, folder)
    with _head_start(folder, tmp_path / "migstock.duckdb", validate=False) as started:
        first, second = sorted(folder.glob("*.xlsx"))[:2]
        started.prepared(local_file(first, "local"))  # the head start has parsed them all
        shutil.copyfile(second, first)  # then a file is replaced
        replaced = local_file(first, "local")
        item = started.prepared(replaced)
        assert item.raw.sha256 == replaced.sha256
        pd.testing.assert_frame_equal(item.rows, pipeline.prepare_file(replaced).rows)
        assert started.validator() is None  # asked not to validate


def test_a_bad_file_fails_as_it_would_have_in_the_task(tmp_path: Path) -> None:
    folder = tmp_path / "raw"
    folder.mkdir()
    page = folder / "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx"
    page.write_text("<html><body>Service unavailable</body></html>", encoding="utf-8")
    with _head_start(folder, tmp_path / "migstock.duckdb") as started:
        raw = local_file(page, "local")
        with pytest.raises(InputError) as ahead:
            started.prepared(raw)
        with pytest.raises(InputError) as now:
            pipeline.prepare_file(raw)
        assert str(ahead.value) == str(now.value)
        assert page.name in str(ahead.value)
        assert started.validator() is None  # nothing valid to validate


def test_a_flow_claims_the_head_start_of_its_own_store_once(tmp_path: Path) -> None:
    folder = tmp_path / "raw"
    folder.mkdir()
    db = tmp_path / "migstock.duckdb"
    started = head_start.begin(_started(folder, db))
    assert head_start.claim(tmp_path / "other.duckdb") is None  # another store: dropped
    assert head_start.claim(db) is None
    started = head_start.begin(_started(folder, db))
    assert head_start.claim(db) is started
    assert head_start.claim(db) is None
    started.close()


def test_a_run_that_ends_early_does_not_wait_for_work_begun_ahead() -> None:
    script = (
        "import time\n"
        "from migstock.head_start import _Background\n"
        "background = _Background()\n"
        "running = background.submit(time.sleep, 60)\n"
        "queued = background.submit(time.sleep, 60)\n"
        "background.stop()\n"
        "assert queued.cancelled()\n"
        "print('exiting')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False
    )
    assert (done.returncode, done.stdout) == (0, "exiting\n"), done.stderr


def test_a_validator_never_outlives_its_process() -> None:
    from migstock import validation_worker

    validator = RemoteValidator()
    validation_worker.stop()
    with pytest.raises(MigstockError, match="validation process has already been stopped"):
        validator.build_docs()
    assert validation_worker._pool is None  # no new process was started for it
