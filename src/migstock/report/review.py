"""Findings a data steward has reviewed: IDs, the ``reviewed.toml`` file, lapses.

A *finding* here is one failing row of a warning (check, place, year, sex, value):
what :mod:`migstock.report.explain` calls a :class:`~migstock.report.explain.Failure`.
Its ID is a short hash of the check, revision, place, origin, year, sex (and, for the
age tables, the age group) and the values compared, so it stays the same from run to run
while the data does.

``migstock review accept ID... --reason --by`` appends an acceptance to a plain TOML
file (``expectations/reviewed.toml`` in a checkout, beside the suites; ``--reviewed``
or ``MIGSTOCK_REVIEWED`` elsewhere) with the reason, who and when, and what was
accepted: the values and the sha256 of the workbook they come from. A run marks each
finding ``open`` or ``accepted`` (:func:`review_run`); an acceptance *lapses*, and its
finding is open again, when the values change or the workbook is published anew (its
sha256 differs). A blocking failure can never be accepted.

A file that cannot be read, or an acceptance whose ID does not belong to what it
records (a typo, a hand-made ID), or one of a blocking failure, is one
:class:`MigstockError` naming the file and line: a run reports it in one line and
treats every finding as open.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from migstock.errors import MigstockError

FILE_NAME = "reviewed.toml"
ENVIRONMENT = "MIGSTOCK_REVIEWED"
#: where a run leaves its findings, beside the steward summary
FINDINGS_FILE = "findings.json"
_ID = re.compile(r"^F[0-9a-f]{10}$")
_REQUIRED = ("id", "check", "revision", "value", "reason", "by", "at")
_HEADER = """\
# Findings reviewed and accepted by data stewards (written by `migstock review accept`).
# One [[accepted]] table per finding: what was accepted (check, revision, place, year,
# sex, the values compared, the workbook's sha256), why, by whom and when.
# An acceptance lapses when the values or the workbook change; the finding is then open
# again. A blocking failure can never be accepted.
"""


@dataclass(frozen=True)
class Acceptance:
    """One ``[[accepted]]`` table of the file."""

    id: str
    check: str
    revision: int
    place_code: int | None
    origin_code: int | None
    year: int | None
    sex: str | None
    value: str
    reason: str
    by: str
    at: str
    place: str = ""
    text: str = ""
    source_sha256: str | None = None
    file: str | None = None
    #: the line of its ``[[accepted]]`` header in the file
    line: int = 0
    #: the age group of a finding on an age table, else None
    age_group: str | None = None

    @property
    def subject(self) -> tuple[Any, ...]:
        """What it is about, its values aside."""
        return (
            self.check,
            self.revision,
            self.place_code,
            self.origin_code,
            self.year,
            self.sex,
            self.age_group,
        )

    def words(self) -> str:
        """'accepted by Amal on 2026-12-03 ("<reason>")'."""
        return f'accepted by {self.by} on {self.at[:10]} ("{self.reason}")'


@dataclass
class Reviewed:
    """The acceptances of a ``reviewed.toml`` (none when it does not exist)."""

    path: Path | None = None
    acceptances: list[Acceptance] = field(default_factory=list)

    def by_id(self) -> dict[str, Acceptance]:
        return {a.id: a for a in self.acceptances}


@dataclass
class Entry:
    """One finding as ``migstock review`` lists it (and ``findings.json`` keeps it)."""

    id: str
    check: str
    title: str
    severity: str
    revision: int
    place: str
    place_code: int | None
    origin_code: int | None
    year: int | None
    sex: str | None
    value: str
    text: str
    file: str | None
    sheet: str | None
    row: int | None
    sha256: str | None
    arab: bool
    status: str = "open"
    reason: str = ""
    by: str = ""
    at: str = ""
    lapsed: str = ""
    #: the age group of a finding on an age table, else None
    age_group: str | None = None
    #: the row of the report this entry stands for (not written to JSON)
    failure: Any = field(default=None, repr=False, compare=False)

    @property
    def blocking(self) -> bool:
        return self.severity == "critical"

    @property
    def subject(self) -> tuple[Any, ...]:
        return (
            self.check,
            self.revision,
            self.place_code,
            self.origin_code,
            self.year,
            self.sex,
            self.age_group,
        )

    def as_dict(self) -> dict[str, Any]:
        document = {k: v for k, v in self.__dict__.items() if k != "failure"}
        return document


def finding_id(
    check: str,
    revision: int,
    place_code: int | None,
    origin_code: int | None,
    year: int | None,
    sex: str | None,
    value: str,
    age_group: str | None = None,
) -> str:
    """A short hash, the same in every run for the same check, place, year, sex (age
    group), revision and values: ``F`` and 10 hex digits. Findings of no age group hash
    as they did before age tables existed."""
    subject = [check, revision, place_code, origin_code, year, sex, value]
    key = json.dumps(subject if age_group is None else [*subject, age_group])
    return "F" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]


# --- the file ---------------------------------------------------------------------------


def packaged_path() -> Path:
    """``reviewed.toml`` beside the suites shipped with the package."""
    return Path(str(resources.files("migstock").joinpath("expectations"))) / FILE_NAME


def default_path(expectations_dir: Path | None = None) -> Path:
    """``MIGSTOCK_REVIEWED``, else ``reviewed.toml`` beside the suites (in a checkout:
    the repository's ``expectations/reviewed.toml``)."""
    configured = os.environ.get(ENVIRONMENT)
    if configured:
        return Path(configured)
    if expectations_dir is not None:
        return Path(expectations_dir) / FILE_NAME
    from migstock.validate.gx import default_expectations_dir

    return default_expectations_dir() / FILE_NAME


def writable_path(option: Path | None) -> Path:
    """Where ``review accept`` writes: ``--reviewed``, ``MIGSTOCK_REVIEWED``, or the
    checkout's ``expectations/reviewed.toml``; never into an installed package."""
    if option is not None:
        return option
    path = default_path()
    if ENVIRONMENT in os.environ or os.environ.get("MIGSTOCK_EXPECTATIONS_DIR"):
        return path
    suites = path.parent
    if not suites.is_symlink():  # an installed package: the checkout links it
        raise MigstockError(
            f"{path} is inside the installed migstock package: name the file to keep the "
            f"reviews in with --reviewed FILE or {ENVIRONMENT} (e.g. in your team's repository)"
        )
    return suites.resolve() / FILE_NAME


def load(path: Path) -> Reviewed:
    """Read ``path`` (no file: nothing reviewed). A malformed file, or an acceptance
    whose ID is not the ID of what it records, raises one :class:`MigstockError`
    naming the file and line."""
    path = Path(path)
    if not path.exists():
        return Reviewed(path)
    try:
        text = path.read_text(encoding="utf-8")
        document = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as error:
        raise MigstockError(f"{path}: cannot read the reviewed findings: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise MigstockError(f"{path}: not valid TOML: {error}") from None
    lines = _header_lines(text)
    unknown = sorted(set(document) - {"accepted"})
    if unknown:
        line = _line_of(text, rf"^\s*\[*\s*{re.escape(unknown[0])}\b") or 1
        raise MigstockError(
            f"{path}, line {line}: unknown key {unknown[0]!r}: the file holds only "
            "[[accepted]] tables"
        )
    tables = document.get("accepted", [])
    if not isinstance(tables, list):
        raise MigstockError(f"{path}: 'accepted' must be [[accepted]] tables")
    acceptances = []
    for position, table in enumerate(tables):
        line = lines[position] if position < len(lines) else 0
        acceptances.append(_acceptance(path, line, table))
    seen: dict[str, int] = {}
    for acceptance in acceptances:
        if acceptance.id in seen:
            raise MigstockError(
                f"{path}, line {acceptance.line}: finding {acceptance.id} is accepted twice "
                f"(also at line {seen[acceptance.id]})"
            )
        seen[acceptance.id] = acceptance.line
    return Reviewed(path, acceptances)


def _acceptance(path: Path, line: int, table: dict[str, Any]) -> Acceptance:
    where = f"{path}, line {line}"
    missing = [key for key in _REQUIRED if key not in table]
    if missing:
        raise MigstockError(f"{where}: the acceptance lacks {', '.join(missing)}")
    try:
        acceptance = Acceptance(
            id=str(table["id"]),
            check=str(table["check"]),
            revision=int(table["revision"]),
            place_code=_optional_int(table.get("place_code")),
            origin_code=_optional_int(table.get("origin_code")),
            year=_optional_int(table.get("year")),
            sex=_optional_str(table.get("sex")),
            value=str(table["value"]),
            reason=str(table["reason"]).strip(),
            by=str(table["by"]).strip(),
            at=str(table["at"]),
            place=str(table.get("place", "")),
            text=str(table.get("text", "")),
            source_sha256=_optional_str(table.get("source_sha256")),
            file=_optional_str(table.get("file")),
            line=line,
            age_group=_optional_str(table.get("age_group")),
        )
    except (TypeError, ValueError) as error:
        raise MigstockError(f"{where}: {error}") from None
    if not acceptance.reason or not acceptance.by:
        raise MigstockError(f"{where}: an acceptance needs a reason and who accepted it")
    expected = finding_id(*acceptance.subject[:-1], acceptance.value, acceptance.age_group)
    if acceptance.id != expected:
        raise MigstockError(
            f"{where}: unknown finding {acceptance.id!r}: no finding has this ID with the "
            f"check, place, year, sex and values recorded there (they give {expected}); "
            "accept findings with `migstock review accept`"
        )
    return acceptance


def _optional_int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _optional_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _header_lines(text: str) -> list[int]:
    """The line number of each ``[[accepted]]`` header, in order."""
    return [
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if re.match(r"^\s*\[\[\s*accepted\s*\]\]", line)
    ]


def _line_of(text: str, pattern: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(pattern, line):
            return number
    return None


def append(path: Path, entries: list[Entry], reason: str, by: str) -> list[Acceptance]:
    """Record ``entries`` as accepted in ``path`` (created if missing); return what was
    written. Raise :class:`MigstockError` for a blocking failure or a file that cannot
    be read: nothing is written then."""
    reason, by = reason.strip(), by.strip()
    if not reason or not by:
        raise MigstockError("an acceptance needs a reason (--reason) and a name (--by)")
    blocking = [e.id for e in entries if e.blocking]
    if blocking:
        raise MigstockError(
            f"{', '.join(blocking)}: a blocking failure cannot be accepted; fix the data or "
            "the suite instead"
        )
    existing = load(path).by_id()
    now = datetime.now(UTC).replace(microsecond=0)
    text = path.read_text(encoding="utf-8") if path.exists() else _HEADER
    written = []
    for entry in entries:
        if entry.id in existing:
            continue
        text += "\n" + _table(entry, reason, by, now)
        written.append(entry.id)
    if written:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        load(temporary)  # what is written reads back
        os.replace(temporary, path)
    accepted = load(path).by_id()
    return [accepted[i] for i in written]


def _table(entry: Entry, reason: str, by: str, now: datetime) -> str:
    values: dict[str, Any] = {
        "id": entry.id,
        "check": entry.check,
        "revision": entry.revision,
        "place": entry.place,
        "place_code": entry.place_code,
        "origin_code": entry.origin_code,
        "year": entry.year,
        "sex": entry.sex,
        "age_group": entry.age_group,
        "value": entry.value,
        "text": entry.text,
        "file": entry.file,
        "source_sha256": entry.sha256,
        "reason": reason,
        "by": by,
    }
    lines = ["[[accepted]]"]
    for key, value in values.items():
        if value is None:
            continue
        shown = str(value) if isinstance(value, int) else _toml_string(str(value))
        lines.append(f"{key} = {shown}")
    lines.append(f"at = {now:%Y-%m-%dT%H:%M:%SZ}")
    return "\n".join(lines) + "\n"


def _toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


# --- a run's findings ---------------------------------------------------------------------


def entries(reports: list[Any]) -> list[Entry]:
    """Every listed failing row of every report's findings, with its ID (computed here
    and kept on the row)."""
    listed = []
    for report in reports:
        for finding in report.findings:
            for failure in finding.failures:
                failure.id = finding_id(
                    finding.check,
                    report.revision,
                    failure.place_code,
                    failure.origin_code,
                    failure.year,
                    failure.sex_code,
                    failure.value,
                    failure.age_group,
                )
                listed.append(
                    Entry(
                        id=failure.id,
                        check=finding.check,
                        title=finding.title,
                        severity=finding.severity,
                        revision=report.revision,
                        place=failure.place,
                        place_code=failure.place_code,
                        origin_code=failure.origin_code,
                        year=failure.year,
                        sex=failure.sex_code,
                        value=failure.value,
                        text=failure.text,
                        file=failure.file,
                        sheet=failure.sheet,
                        row=failure.row,
                        sha256=failure.sha256,
                        arab=failure.arab,
                        age_group=failure.age_group,
                        failure=failure,
                    )
                )
    return listed


def judge(listed: list[Entry], reviewed: Reviewed) -> None:
    """Mark each entry open or accepted. Raise :class:`MigstockError` (every entry left
    open) when the file accepts a blocking failure."""
    for entry in listed:
        entry.status, entry.reason, entry.by, entry.at, entry.lapsed = "open", "", "", "", ""
    by_id = reviewed.by_id()
    by_subject = {a.subject: a for a in reviewed.acceptances}
    for entry in listed:
        acceptance = by_id.get(entry.id)
        if acceptance is not None and entry.blocking:
            raise MigstockError(
                f"{reviewed.path}, line {acceptance.line}: finding {entry.id} is a blocking "
                f"failure ({entry.title}: {entry.place} {entry.year or ''}); a blocking "
                "failure can never be accepted"
            )
    for entry in listed:
        if entry.blocking:
            continue
        acceptance = by_id.get(entry.id)
        if acceptance is None:
            earlier = by_subject.get(entry.subject)
            if earlier is not None:
                was = earlier.text or earlier.value
                entry.lapsed = f"the values changed; {earlier.words()} for: {was}"
            continue
        if acceptance.source_sha256 and entry.sha256 and acceptance.source_sha256 != entry.sha256:
            entry.lapsed = (
                f"the workbook was published anew (sha256 {entry.sha256[:12]}…); "
                f"{acceptance.words()} for sha256 {acceptance.source_sha256[:12]}…"
            )
            continue
        entry.status, entry.reason, entry.by, entry.at = (
            "accepted",
            acceptance.reason,
            acceptance.by,
            acceptance.at,
        )


def apply(reports: list[Any], reviewed: Reviewed) -> None:
    """Give every finding of ``reports`` its ID and mark it open or accepted (on the
    failing rows of ``report.findings``: ``id``, ``status``, ``acceptance``, ``lapsed``).
    Raise :class:`MigstockError` when ``reviewed`` accepts a blocking failure: every
    finding is then open."""
    listed = entries(reports)
    try:
        judge(listed, reviewed)
    finally:
        _mark(listed, reviewed)


def _mark(listed: list[Entry], reviewed: Reviewed) -> None:
    by_id = reviewed.by_id()
    for entry in listed:
        failure = entry.failure
        failure.status = entry.status
        failure.lapsed = entry.lapsed
        failure.acceptance = by_id.get(entry.id) if entry.status == "accepted" else None


def review_run(reports: list[Any], path: Path | None = None) -> str | None:
    """Read the reviewed findings (``path``, default :func:`default_path`) and mark the
    findings of ``reports``; return the file's problem in one line (everything is then
    open), or None. Never raises for a bad file: a run goes on."""
    path = path or default_path()
    try:
        apply(reports, load(path))
    except MigstockError as error:
        apply(reports, Reviewed(path))
        return f"{error}; every finding is treated as open"
    return None


# --- what a run leaves behind -----------------------------------------------------------------


def write_findings(
    run_dir: Path,
    reports: list[Any],
    problem: str | None = None,
    parts: tuple[str, ...] = ("load",),
) -> Path:
    """``findings.json`` of a run: every finding with its ID and status, and what the
    run checked (``parts``: ``load``, the workbooks; ``flows``, estimated flows)."""
    listed = entries(reports)
    for entry in listed:  # the statuses the run gave (apply() ran before)
        failure = entry.failure
        entry.status, entry.lapsed = failure.status, failure.lapsed
        if failure.acceptance is not None:
            entry.reason, entry.by, entry.at = (
                failure.acceptance.reason,
                failure.acceptance.by,
                failure.acceptance.at,
            )
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / FINDINGS_FILE
    document = {
        "run_id": run_dir.name,
        "revisions": [report.revision for report in reports],
        "parts": list(parts),
        "reviewed_problem": problem,
        "findings": [entry.as_dict() for entry in listed],
    }
    path.write_text(json.dumps(document, indent=1, default=str), encoding="utf-8")
    return path


#: what a run can check: the workbooks it loads or validates, the flows it estimates
PARTS = ("load", "flows")


def part_of(entry: Entry) -> str:
    """``flows`` for a finding on estimated flows, else ``load``."""
    return "flows" if entry.check.startswith("flows.") else "load"


def latest_findings(validation_dir: Path) -> tuple[str, list[Entry]]:
    """The run id and findings of the latest run that left ``findings.json``.

    A run checks the workbooks (``migstock run``, ``validate``), estimated flows
    (``migstock flows``) or both (``migstock run --flows``): the findings of each part
    come from the latest run that checked it, so a ``migstock flows`` after a load
    lists the load's findings and the new flows' ones (the id names both runs).
    """
    runs = validation_dir / "runs"
    files = sorted(runs.glob(f"*/{FINDINGS_FILE}")) if runs.is_dir() else []
    if not files:
        raise MigstockError(
            f"no run has left its findings in {runs}: run `migstock run` (or validate) first"
        )
    wanted = set(PARTS)
    listed: list[Entry] = []
    ids: list[str] = []
    for path in reversed(files):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            entries_ = [Entry(**item) for item in document["findings"]]
            parts = set(document.get("parts") or ["load"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise MigstockError(f"{path}: cannot read the run's findings: {error}") from None
        taken = parts & wanted
        if not taken:
            continue
        listed += [entry for entry in entries_ if part_of(entry) in taken]
        ids.append(str(document.get("run_id", path.parent.name)))
        wanted -= taken
        if not wanted:
            break
    return " and ".join(ids), listed
