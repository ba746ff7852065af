"""What a run acquires, decided and carried out without Prefect (``migstock.acquire``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from migstock import acquire
from migstock.acquire import Action, Scope
from migstock.acquire.fetch import Fetched
from migstock.acquire.provenance import RawFile, local_file, sha256_of, write_sidecar
from migstock.catalog import CATALOG, SourceFile, apply_url_overrides, revision
from migstock.errors import FetchError
from migstock.outcomes import Outcome, RunSummary, Status
from migstock.parse.read import SPREADSHEET_SUFFIXES

TOTALS_2020 = "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx"
TOTALS_2019 = "UN_MigrantStockTotal_2019.xlsx"


def _store(db: Path, files: dict[Path, tuple[int, str]]) -> Path:
    """A store whose ``raw_files`` holds these files (all change detection reads)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE raw_files (sha256 VARCHAR, revision SMALLINT, dataset VARCHAR)")
        for path, (number, dataset) in files.items():
            con.execute(
                "INSERT INTO raw_files VALUES (?, ?, ?)", [sha256_of(path), number, dataset]
            )
    return db


def _file(directory: Path, name: str, content: bytes = b"PK\x03\x04 a workbook") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(content)
    return path


def _subjects(outcomes: list[Outcome]) -> dict[str, Status]:
    return {o.subject: o.status for o in outcomes}


class FakeFetcher:
    """Stands in for ``fetch.download``: answers per file name, records every call."""

    def __init__(self, answers: dict[str, object]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def __call__(self, source: SourceFile, landing_dir: Path, known: object = None) -> Fetched:
        self.calls.append(source.file_name)
        answer = self.answers[source.file_name]
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]


def test_status_vocabulary() -> None:
    assert {s for s in Status if s.failed} == {Status.REJECTED, Status.UNAVAILABLE}
    assert Outcome("x", "not provided").status is Status.NOT_PROVIDED  # text is coerced
    assert Status.LOADED == "loaded" and f"{Status.NOT_PROVIDED}" == "not provided"
    with pytest.raises(ValueError):
        Outcome("x", "fine")
    assert (
        RunSummary([Outcome("a", Status.NOT_PROVIDED), Outcome("b", Status.STALE)]).failed is False
    )
    assert RunSummary([Outcome("a", Status.UNAVAILABLE)]).failed is True


def test_local_suffixes_are_what_read_reads() -> None:
    assert acquire.LOCAL_SUFFIXES == SPREADSHEET_SUFFIXES


def test_scope(tmp_path: Path) -> None:
    assert Scope.of(tmp_path).required == frozenset()
    assert Scope.of(tmp_path, revisions=[2024, 2020]).required == frozenset()
    assert Scope.of(tmp_path, revisions=[2024, 2020]).wants(2020)
    assert not Scope.of(tmp_path, revisions=[2024, 2020]).wants(2019)
    assert Scope.of(tmp_path, revisions=[]).wants(2019)
    assert Scope.of(tmp_path, required=[2019]).required == {2019}
    assert Scope.of(tmp_path, raw_dir_given=True).online is False
    assert Scope.of(tmp_path, offline=True).online is False
    assert Scope.of(tmp_path).online is True


def test_local_files_are_judged_by_sha256_alone(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    loaded = _file(raw, "any name.xlsx", b"PK loaded bytes")
    _file(raw, "new.xlsx", b"PK new bytes")
    _file(raw, "z copy of new.xlsx", b"PK new bytes")
    _file(raw, "~$lock.xlsx", b"excel lock file")
    _file(raw, "notes.txt", b"not a spreadsheet")
    known = {sha256_of(loaded): (2019, "destination_totals")}

    actions = {f.raw.path.name: f.action for f in acquire.scan_local(Scope.of(raw), known)}
    assert actions == {
        "any name.xlsx": Action.SKIP_UNCHANGED,
        "new.xlsx": Action.USE_LOCAL,
        "z copy of new.xlsx": Action.SKIP_COPY,
    }
    forced = acquire.scan_local(Scope.of(raw, force=True), known)
    assert [f.action for f in forced] == [Action.USE_LOCAL, Action.USE_LOCAL, Action.SKIP_COPY]

    acquisition = acquire.from_local(Scope.of(raw), acquire.scan_local(Scope.of(raw), known))
    assert [r.path.name for r in acquisition.to_prepare] == ["new.xlsx"]
    assert acquisition.present == {(2019, "destination_totals")}
    assert _subjects(acquisition.outcomes) == {"2019 destination_totals": Status.UNCHANGED}
    only_2020 = Scope.of(raw, revisions=[2020])  # an unwanted revision is not reported
    assert acquire.from_local(only_2020, acquire.scan_local(only_2020, known)).outcomes == []


def test_catalog_plan(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    downloaded = _file(raw, TOTALS_2020)
    write_sidecar(
        RawFile(downloaded, sha256_of(downloaded), 20, "download", "https://x/t", etag='"v1"'),
        2020,
        "destination_totals",
    )
    local = acquire.scan_local(Scope.of(raw), {})
    present = {(2020, "destination_totals")}

    def plan(scope: Scope) -> dict[str, Action]:
        return {s.subject: s.action for s in acquire.plan_catalog(scope, CATALOG, present, local)}

    online = plan(Scope.of(raw, revisions=[2020]))
    assert online == {
        "2020 bilateral": Action.FETCH,
        "2020 destination_totals": Action.RECHECK,
        "2020 age": Action.FETCH,
    }
    offline = plan(Scope.of(raw, revisions=[2020], offline=True))
    assert offline == {  # the totals are covered: nothing to do
        "2020 bilateral": Action.NOT_PROVIDED,
        "2020 age": Action.NOT_PROVIDED,
    }
    every_file = sum(len(entry.files) for entry in CATALOG)
    assert every_file == 2 * len(CATALOG) + 5  # an age workbook for 2013-2020, none for 2024
    assert len(plan(Scope.of(raw, raw_dir_given=True))) == every_file - 1

    # a sidecar that no longer matches the file (edited by hand): no conditional request
    downloaded.write_bytes(b"PK edited by hand")
    edited = acquire.scan_local(Scope.of(raw), {})
    steps = acquire.plan_catalog(Scope.of(raw, revisions=[2020]), CATALOG, present, edited)
    assert {s.subject: s.action for s in steps} == {
        "2020 bilateral": Action.FETCH,
        "2020 age": Action.FETCH,
    }


def test_an_unreachable_host_is_tried_once_and_missing_files_fail_only_when_required(
    tmp_path: Path,
) -> None:
    raw = tmp_path / "raw"
    urls = {
        "2019/bilateral": "https://down.example/b",
        "2019/destination_totals": "https://down.example/t",
        "2019/age": "https://down.example/a",
    }
    catalog = apply_url_overrides(urls, CATALOG)
    unreachable = FetchError("down.example could not be reached", unreachable=True)
    names = {s.file_name: unreachable for e in catalog for s in e.files}

    for required, expected in (([2019], Status.UNAVAILABLE), ([], Status.NOT_PROVIDED)):
        scope = Scope.of(raw, revisions=[2019], required=required)
        fetcher = FakeFetcher(names)
        acquisition = acquire.Acquisition()
        steps = acquire.plan_catalog(scope, catalog, set())
        assert acquire.carry_out(acquisition, scope, steps, fetcher) == []
        assert len(fetcher.calls) == 1  # the second file of that host is not tried
        assert _subjects(acquisition.outcomes) == {
            "2019 bilateral": expected,
            "2019 destination_totals": expected,
            "2019 age": expected,
        }
        skipped = acquisition.outcomes[1].message
        assert skipped.startswith("skipped: down.example could not be reached earlier")
        assert str(raw / TOTALS_2019) in skipped


def test_recheck_outcomes(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    path = _file(raw, TOTALS_2020)
    scope = Scope.of(raw, revisions=[2020])
    source = revision(2020).file("destination_totals")
    step = acquire.CatalogStep(Action.RECHECK, source, path, present=True)
    unchanged = Outcome("2020 destination_totals", Status.UNCHANGED, "loaded")

    # 304: nothing to parse, the unchanged outcome stays
    acquisition = acquire.Acquisition(outcomes=[unchanged])
    not_modified = Fetched(local_file(path, "download"), changed=False)
    assert (
        acquire.carry_out(acquisition, scope, [step], FakeFetcher({TOTALS_2020: not_modified}))
        == []
    )
    assert acquisition.outcomes == [unchanged]

    # a new file on the server: parse it; it is no longer "unchanged"
    acquisition = acquire.Acquisition(outcomes=[unchanged])
    changed = Fetched(local_file(path, "download"), changed=True)
    fetched = acquire.carry_out(acquisition, scope, [step], FakeFetcher({TOTALS_2020: changed}))
    assert fetched == [changed.raw] and acquisition.outcomes == []

    # the check failed: the local file is used, "stale", even for a required revision
    acquisition = acquire.Acquisition()
    failing = FakeFetcher({TOTALS_2020: FetchError("HTTP 500", transient=True)})
    acquire.carry_out(acquisition, Scope.of(raw, required=[2020]), [step], failing)
    assert _subjects(acquisition.outcomes) == {"2020 destination_totals": Status.STALE}


def test_conclusions(tmp_path: Path) -> None:
    scope = Scope.of(tmp_path, raw_dir_given=True)
    unchanged = acquire.Acquisition(outcomes=[Outcome("2019 x", Status.UNCHANGED)])
    acquire.conclude(unchanged, scope, prepared_any=False)
    assert unchanged.outcomes[-1] == Outcome(
        "store", Status.UNCHANGED, "nothing changed: no new or modified raw file"
    )
    nothing = acquire.Acquisition(outcomes=[Outcome("2019 x", Status.NOT_PROVIDED)])
    acquire.conclude(nothing, scope, prepared_any=False)  # no workbook at all fails
    assert [o.status for o in nothing.outcomes] == [Status.UNAVAILABLE, Status.UNAVAILABLE]
    parsed = acquire.Acquisition(outcomes=[Outcome("2019 x", Status.NOT_PROVIDED)])
    acquire.conclude(parsed, scope, prepared_any=True)
    assert len(parsed.outcomes) == 1


def test_begin_finishes_the_run_unless_a_new_local_file_needs_parsing(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    loaded = _file(raw, "a.xlsx", b"PK a")
    db = _store(tmp_path / "curated" / "m.duckdb", {loaded: (2019, "destination_totals")})
    scope = Scope.of(raw, raw_dir_given=True)
    done = acquire.begin(scope, CATALOG, db)
    assert acquire.finished(done, scope) and done.to_prepare == []
    assert _subjects(done.outcomes)["store"] is Status.UNCHANGED
    assert _subjects(done.outcomes)["2019 destination_totals"] is Status.UNCHANGED
    assert _subjects(done.outcomes)["2024 bilateral"] is Status.NOT_PROVIDED
    assert not RunSummary(done.outcomes).failed

    new = _file(raw, "b.xlsx", b"PK b")  # what it is only parsing can tell
    pending = acquire.begin(scope, CATALOG, db)
    assert not pending.catalog_done and [r.path for r in pending.to_prepare] == [new]
    assert not acquire.finished(pending, scope)
    forced = Scope.of(raw, raw_dir_given=True, force=True)
    assert len(acquire.begin(forced, CATALOG, db).to_prepare) == 2


def test_begin_online_costs_one_conditional_request(
    httpserver: HTTPServer, official_dir: Path, tmp_path: Path
) -> None:
    """A landing zone of earlier downloads: one conditional request each, 304, done."""
    raw = tmp_path / "raw"
    seen = []

    def totals(request: Request) -> Response:
        seen.append(request.headers.get("If-None-Match"))
        return Response(status=304)

    httpserver.expect_request("/t.xlsx").respond_with_handler(totals)
    httpserver.expect_request("/b.xlsx").respond_with_data("gone", status=404)
    httpserver.expect_request("/a.xlsx").respond_with_data("gone", status=404)
    urls = {
        "2020/destination_totals": httpserver.url_for("/t.xlsx"),
        "2020/bilateral": httpserver.url_for("/b.xlsx"),
        "2020/age": httpserver.url_for("/a.xlsx"),
    }
    path = _file(raw, TOTALS_2020, (official_dir / TOTALS_2020).read_bytes())
    write_sidecar(
        RawFile(
            path,
            sha256_of(path),
            path.stat().st_size,
            "download",
            urls["2020/destination_totals"],
            etag='"e1"',
        ),
        2020,
        "destination_totals",
    )
    db = _store(tmp_path / "m.duckdb", {path: (2020, "destination_totals")})
    catalog = apply_url_overrides(urls, CATALOG)

    scope = Scope.of(raw, revisions=[2020])
    done = acquire.begin(scope, catalog, db)
    assert acquire.finished(done, scope) and done.to_prepare == []
    assert seen == ['"e1"']
    outcomes = _subjects(done.outcomes)
    assert outcomes["2020 destination_totals"] is Status.UNCHANGED
    assert outcomes["2020 bilateral"] is Status.NOT_PROVIDED  # 404, but not required
    assert outcomes["2020 age"] is Status.NOT_PROVIDED
    assert outcomes["store"] is Status.UNCHANGED

    required = acquire.begin(Scope.of(raw, revisions=[2020], required=[2020]), catalog, db)
    assert _subjects(required.outcomes)["2020 bilateral"] is Status.UNAVAILABLE


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command line in a fresh interpreter; reports which heavy modules it imported."""
    code = (
        "import sys\n"
        "from migstock.cli import app\n"
        "try:\n"
        f"    app({args!r})\n"
        "except SystemExit as stop:\n"
        "    slow = ('prefect', 'great_expectations', 'pandas')\n"
        "    heavy = sorted(m for m in slow if m in sys.modules)\n"
        "    print('IMPORTED', ','.join(heavy) or '-', 'EXIT', stop.code or 0)\n"
    )
    environment = {**os.environ, "COLUMNS": "200", "MIGSTOCK_DATA_DIR": str(cwd / "data")}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_unchanged_rerun_never_imports_prefect_or_great_expectations(
    official_dir: Path, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in (TOTALS_2019, TOTALS_2020):
        (raw / name).symlink_to(official_dir / name)
    db = _store(
        tmp_path / "curated" / "m.duckdb",
        {
            raw / TOTALS_2019: (2019, "destination_totals"),
            raw / TOTALS_2020: (2020, "destination_totals"),
        },
    )
    result = _cli(["run", "--raw-dir", str(raw), "--db", str(db)], tmp_path)
    assert "IMPORTED - EXIT 0" in result.stdout, result.stdout + result.stderr
    assert "nothing changed" in result.stdout

    # a required revision that is missing fails the run, still without Prefect
    result = _cli(["run", "--raw-dir", str(raw), "--db", str(db), "--require", "2024"], tmp_path)
    assert "IMPORTED - EXIT 1" in result.stdout, result.stdout + result.stderr
    assert "2024 destination_totals" in result.stderr and "no such workbook" in result.stderr
