"""SDMX views of the fact tables: structure (SDMX-ML 2.1), data (SDMX-CSV 1.0, SDMX-ML 2.1).

One data structure definition, ``MIGSTOCK:DSD_MIGSTOCK``, describes three fact tables,
each a dataflow (``BILATERAL_STOCK``, ``DESTINATION_TOTALS``, ``REFUGEES``); a second,
``MIGSTOCK:DSD_MIGSTOCK_AGE``, the migrants by age (``MIGRANTS_BY_AGE``: ``age_stock``
with the population of the same age and sex from ``age_population``). Flows estimated
from the stocks (table ``flows``) are the dataflow ``FLOWS`` on a structure of their own,
``MIGSTOCK:DSD_MIGSTOCK_FLOWS`` (a METHOD dimension, TIME_PERIOD a time range such as
``1990-07-01/P5Y``, no FREQ), with codelists and concepts of their own, so that the stock
tables' structure is the same with or without flows. Each UN revision R gets its own
version ``1.0.R`` of the DSDs, of the dataflows and of the two codelists whose content
follows the revision (``CL_AREA``: the names that revision published; ``CL_DATA_TYPE``);
the codelists and concepts that never change are version ``1.0``.

Key: ``FREQ.INDICATOR.REF_AREA.COUNTERPART_AREA.SEX`` plus ``TIME_PERIOD`` (the
reference year); by age ``FREQ.INDICATOR.REF_AREA.SEX.AGE`` (``CL_AGE``: ``Y0T4`` ...
``Y70T74``, ``Y75T_``, ``_T``) plus ``TIME_PERIOD``. Every cell of a store row is one
observation, a NULL one included: its OBS_VALUE is empty and OBS_STATUS is ``M`` (``..``,
not available) or its CONF_STATUS is ``C`` (``~``, suppressed for privacy).

One SQL query per dataflow maps the store to these columns (:func:`observations_sql`).
DuckDB writes SDMX-CSV from it (pysdmx's CSV writer is pandas'
``to_csv``: four times slower, 1 s per 224,000 observations, too slow for every load
of the 1.7 M bilateral rows). pysdmx writes the SDMX-ML structure, and the envelope of
SDMX-ML data (:func:`sdmx_ml_envelope`): DuckDB makes each ``<Obs .../>`` element
(:func:`obs_elements_sql`) and they are streamed into it, byte for byte what pysdmx
writes from a frame of the whole table, in a fraction of its time and memory (1.37 M
observations: 5 s and 300 MB instead of 74 s and 2.1 GB). pysdmx reads all of them
back in the tests. pysdmx is imported only here, when a structure or SDMX-ML file is
written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import duckdb

from migstock.errors import MigstockError
from migstock.exchange.csvgz import copy_csv_gz
from migstock.relations import has_relation

if TYPE_CHECKING:
    from pysdmx.model import Codelist, Concept, ConceptScheme

AGENCY = "MIGSTOCK"
DSD_ID = "DSD_MIGSTOCK"
CONCEPT_SCHEME_ID = "CS_MIGSTOCK"
#: version of the artefacts that do not change with the revision
STATIC_VERSION = "1.0"
#: the fact tables and their dataflow IDs
DATAFLOWS = {
    "bilateral_stock": "BILATERAL_STOCK",
    "destination_totals": "DESTINATION_TOTALS",
    "refugees": "REFUGEES",
    "flows": "FLOWS",
    "age_stock": "MIGRANTS_BY_AGE",
}
DATAFLOW_NAMES = {
    "bilateral_stock": "International migrant stock by destination, origin and sex",
    "destination_totals": "International migrant stock, total population and migrant share "
    "by destination and sex",
    "refugees": "Refugees and asylum seekers by destination",
    "flows": "Migration flows estimated from the migrant stocks, by origin, destination, sex "
    "and method",
    "age_stock": "International migrant stock and total population by destination, age and sex",
}
#: the store tables a dataflow is made of (default: the table itself)
SOURCE_TABLES = {"age_stock": ("age_stock", "age_population")}
#: the DSD of the migrants by age (an AGE dimension, no COUNTERPART_AREA: all origins)
AGE_DSD_ID = "DSD_MIGSTOCK_AGE"
#: age groups as the store writes them -> SDMX codes (CL_AGE), with their names
AGE_CODES = {
    **{f"{a}-{a + 4}": f"Y{a}T{a + 4}" for a in range(0, 75, 5)},
    "75+": "Y75T_",
    "total": "_T",
}
AGE_NAMES = {
    **{f"Y{a}T{a + 4}": f"{a} to {a + 4} years" for a in range(0, 75, 5)},
    "Y75T_": "75 years and over",
    "_T": "All ages",
}

#: residual origins with no M49 code (bilateral_stock.origin_kind -> COUNTERPART_AREA)
RESIDUAL_AREAS = {"other_north": "_O_N", "other_south": "_O_S", "other": "_O"}
RESIDUAL_NAMES = {"_O_N": "Other North", "_O_S": "Other South", "_O": "Other"}
NOT_APPLICABLE = "_Z"
#: COUNTERPART_AREA of counts over all origins (destination totals, refugees)
WORLD = "900"
SEX_CODES = {"total": "_T", "male": "M", "female": "F"}

INDICATORS = {
    "MIGRANT_STOCK": (
        "International migrant stock",
        "Persons born abroad or foreign citizens at mid-year",
    ),
    "TOTAL_POPULATION": ("Total population", "Total population at mid-year"),
    "MIGRANT_SHARE": (
        "International migrant stock as a percentage of the total population",
        "As published (Table 3 of the destination-totals workbooks)",
    ),
    "REFUGEES": (
        "Refugees and asylum seekers",
        "Refugees and asylum seekers at mid-year (UNHCR, UNRWA), both sexes",
    ),
    "REFUGEE_SHARE": (
        "Refugees as a percentage of the international migrant stock",
        "As published (Table 6 of the destination-totals workbooks)",
    ),
}
DATA_TYPE_LETTERS = {
    "B": "foreign-born population",
    "C": "foreign citizens",
    "I": "imputed (no data)",
    "R": "refugees added (UNHCR, UNRWA)",
}
#: type-of-data codes as the UN publishes them (letters without spaces); others seen
#: in a revision are added to that revision's codelist
KNOWN_DATA_TYPES = [f"{base}{r}" for base in ("B", "C", "I", "BC", "CB") for r in ("", "R")]

STATIC_CODELISTS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "CL_FREQ": ("Frequency", [("A", "Annual")]),
    "CL_INDICATOR": ("Indicator", [(code, name) for code, (name, _) in INDICATORS.items()]),
    "CL_SEX": ("Sex", [("F", "Female"), ("M", "Male"), ("_T", "Total")]),
    "CL_AGE": ("Age", list(AGE_NAMES.items())),
    "CL_UNIT_MEASURE": ("Unit of measure", [("PS", "Persons"), ("PT", "Percent")]),
    "CL_OBS_STATUS": (
        "Observation status",
        [("A", "Normal value"), ("M", "Missing value: not available ('..' in the workbook)")],
    ),
    "CL_CONF_STATUS": (
        "Confidentiality status",
        [
            ("F", "Free"),
            ("C", "Confidential: suppressed for privacy ('~' in the workbook, fewer than five)"),
        ],
    ),
}

Role = Literal["dimension", "time", "measure", "attribute"]
#: (ID, role, codelist or None, required, concept name, concept description)
COMPONENTS: list[tuple[str, Role, str | None, bool, str, str]] = [
    ("FREQ", "dimension", "CL_FREQ", True, "Frequency", "A: annual"),
    ("INDICATOR", "dimension", "CL_INDICATOR", True, "Indicator", "What is counted"),
    ("REF_AREA", "dimension", "CL_AREA", True, "Reference area",
     "Country or area of destination, or an aggregate: UN M49 code (UN DESA location code)"),
    ("COUNTERPART_AREA", "dimension", "CL_AREA", True, "Counterpart area",
     "Country or area of origin (900: all origins; _O_N, _O_S, _O: the residual origins "
     "Other North, Other South, Other; _Z: not applicable)"),
    ("SEX", "dimension", "CL_SEX", True, "Sex", "F, M or _T (both sexes)"),
    ("TIME_PERIOD", "time", None, True, "Time period",
     "Reference year: the stock at mid-year (1 July)"),
    ("OBS_VALUE", "measure", None, False, "Observation value",
     "The count (persons) or the percentage; empty when not available or suppressed"),
    ("UNIT_MEASURE", "attribute", "CL_UNIT_MEASURE", True, "Unit of measure",
     "PS persons, PT percent"),
    ("OBS_STATUS", "attribute", "CL_OBS_STATUS", True, "Observation status",
     "M when the UN published '..' (not available)"),
    ("CONF_STATUS", "attribute", "CL_CONF_STATUS", True, "Confidentiality status",
     "C when the UN suppressed the count ('~')"),
    ("DATA_TYPE", "attribute", "CL_DATA_TYPE", False, "Type of data",
     "What the destination's estimate is based on: B foreign-born, C foreign citizens, "
     "I imputed, R refugees added (letters as published); empty for aggregates"),
    ("REVISION", "attribute", None, True, "Revision",
     "Revision (publication year) of International Migrant Stock the value comes from"),
    ("SOURCE_SHA256", "attribute", None, True, "Source file sha256",
     "sha256 of the UN workbook the value was read from (raw_files.sha256 in the store)"),
]  # fmt: skip
#: the AGE dimension of the migrants by age, after SEX
AGE_COMPONENT: tuple[str, Role, str | None, bool, str, str] = (
    "AGE", "dimension", "CL_AGE", True, "Age",
    "Age group in completed years: Y0T4 (0 to 4), ... Y70T74, Y75T_ (75 and over); _T all ages",
)  # fmt: skip
#: the components of DSD_MIGSTOCK_AGE: those of DSD_MIGSTOCK without COUNTERPART_AREA
#: (every count is over all origins), with AGE after SEX
AGE_COMPONENTS = [
    component
    for main in COMPONENTS
    if main[0] != "COUNTERPART_AREA"
    for component in ((main, AGE_COMPONENT) if main[0] == "SEX" else (main,))
]
#: the SDMX-CSV 1.0 columns, in order: DATAFLOW, dimensions, measure, attributes
SDMX_COLUMNS = ["DATAFLOW", *(component[0] for component in COMPONENTS)]

# --- estimated flows: a data structure of their own (a period, a method) ---------------

FLOWS_DSD_ID = "DSD_MIGSTOCK_FLOWS"
FLOWS_CONCEPT_SCHEME_ID = "CS_MIGSTOCK_FLOWS"
#: flows.method -> METHOD code
FLOW_METHODS = {
    "demographic_account": "DEMOGRAPHIC_ACCOUNT",
    "stock_difference_zero": "STOCK_DIFFERENCE_ZERO",
    "stock_difference_return": "STOCK_DIFFERENCE_RETURN",
}
FLOW_CODELISTS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "CL_FLOW_INDICATOR": (
        "Indicator of estimated flows",
        [("MIGRATION_FLOW", "People who moved from the origin to the destination over the period")],
    ),
    "CL_FLOW_METHOD": (
        "Method of estimating flows from stocks",
        [
            ("DEMOGRAPHIC_ACCOUNT", "Closed demographic account (Abel and Cohen 2019; migest "
             "2.0.5 ffs_demo)"),
            ("STOCK_DIFFERENCE_ZERO", "Increase of the stock born in the origin living in the "
             "destination; decreases as 0 (migest ffs_diff, decrease = zero)"),
            ("STOCK_DIFFERENCE_RETURN", "As STOCK_DIFFERENCE_ZERO, plus decreases as return "
             "flows (migest ffs_diff, decrease = return)"),
        ],
    ),
    "CL_VITAL_EVENTS": (
        "Births and deaths used",
        [
            ("WPP", "From World Population Prospects (demographic indicators)"),
            ("NONE", "None: births and deaths taken as zero"),
        ],
    ),
}  # fmt: skip
#: the flows DSD's components, as :data:`COMPONENTS`; no FREQ: TIME_PERIOD is a time
#: range (``1990-07-01/P5Y``: mid-year to mid-year) whose length is the period's
FLOW_COMPONENTS: list[tuple[str, Role, str | None, bool, str, str]] = [
    ("INDICATOR", "dimension", "CL_FLOW_INDICATOR", True, "Indicator", "What is estimated"),
    ("REF_AREA", "dimension", "CL_AREA", True, "Destination",
     "Country or area people moved to (where they lived at the end of the period): UN M49"),
    ("COUNTERPART_AREA", "dimension", "CL_AREA", True, "Origin",
     "Country or area people moved from (where they lived at the start of the period): UN M49"),
    ("SEX", "dimension", "CL_SEX", True, "Sex", "F, M or _T (both sexes)"),
    ("METHOD", "dimension", "CL_FLOW_METHOD", True, "Method",
     "How the flow is estimated from the stocks of two reference years"),
    ("TIME_PERIOD", "time", None, True, "Time period",
     "The period between two consecutive reference years, mid-year to mid-year, as an "
     "SDMX time range: start date and duration (1990-07-01/P5Y)"),
    ("OBS_VALUE", "measure", None, False, "Observation value",
     "Estimated persons who moved over the period (unrounded): an estimate, not a count"),
    ("UNIT_MEASURE", "attribute", "CL_UNIT_MEASURE", True, "Unit of measure", "PS persons"),
    ("VITAL_EVENTS", "attribute", "CL_VITAL_EVENTS", True, "Births and deaths",
     "WPP: births and deaths from World Population Prospects were used; NONE: taken as zero"),
    ("REVISION", "attribute", None, True, "Revision",
     "Revision of International Migrant Stock whose stocks the flows are estimated from"),
]  # fmt: skip
FLOW_SDMX_COLUMNS = ["DATAFLOW", *(component[0] for component in FLOW_COMPONENTS)]


def _flow_observations(where: str) -> str:
    methods = " ".join(f"WHEN '{m}' THEN '{code}'" for m, code in FLOW_METHODS.items())
    return f"""
    SELECT '{AGENCY}:{DATAFLOWS["flows"]}(1.0.' || f.revision || ')' AS DATAFLOW,
           'MIGRATION_FLOW' AS INDICATOR,
           f.destination_code::VARCHAR AS REF_AREA, f.origin_code::VARCHAR AS COUNTERPART_AREA,
           {_sex("f.sex")} AS SEX, CASE f.method {methods} END AS METHOD,
           f.period_start || '-07-01/P' || (f.period_end - f.period_start) || 'Y' AS TIME_PERIOD,
           f.flow::VARCHAR AS OBS_VALUE, 'PS' AS UNIT_MEASURE,
           CASE WHEN f.vital_events THEN 'WPP' ELSE 'NONE' END AS VITAL_EVENTS,
           f.revision::VARCHAR AS REVISION
    FROM flows f
    WHERE {where}"""


def components_of(table: str) -> list[tuple[str, Role, str | None, bool, str, str]]:
    """The components of the DSD of ``table``'s dataflow."""
    return {"age_stock": AGE_COMPONENTS, "flows": FLOW_COMPONENTS}.get(table, COMPONENTS)


def dsd_id_of(table: str) -> str:
    """The DSD of ``table``'s dataflow: ``DSD_MIGSTOCK_AGE`` for the migrants by age,
    ``DSD_MIGSTOCK_FLOWS`` for the estimated flows, else ``DSD_MIGSTOCK``."""
    return {"age_stock": AGE_DSD_ID, "flows": FLOWS_DSD_ID}.get(table, DSD_ID)


def sdmx_columns(table: str) -> list[str]:
    """The SDMX-CSV 1.0 columns of ``table``'s dataflow, in order."""
    return ["DATAFLOW", *(component[0] for component in components_of(table))]


def source_tables(table: str) -> tuple[str, ...]:
    """The store tables ``table``'s dataflow is made of."""
    return SOURCE_TABLES.get(table, (table,))


def version_of(revision: int) -> str:
    """The version of the DSD, dataflows and revision codelists of ``revision``."""
    return f"1.0.{revision}"


def dataflow_ref(table: str, revision: int) -> str:
    """``MIGSTOCK:BILATERAL_STOCK(1.0.2024)``: the DATAFLOW column of SDMX-CSV 1.0."""
    return f"{AGENCY}:{DATAFLOWS[table]}({version_of(revision)})"


def _check_table(table: str) -> None:
    if table not in DATAFLOWS:
        raise MigstockError(
            f"{table!r} has no SDMX dataflow; choose one of: {', '.join(DATAFLOWS)}"
        )


def _sex(column: str) -> str:
    cases = " ".join(f"WHEN '{sex}' THEN '{code}'" for sex, code in SEX_CODES.items())
    return f"CASE {column} {cases} END"


def _age(column: str) -> str:
    cases = " ".join(f"WHEN '{group}' THEN '{code}'" for group, code in AGE_CODES.items())
    return f"CASE {column} {cases} END"


def _observation(
    *,
    table: str,
    indicator: str,
    counterpart: str | None,
    sex: str,
    value: str,
    unit: str,
    suppressed: str = "false",
    source: str | None = None,
) -> str:
    """One SELECT list mapping a row of ``source`` (default ``table``) to the SDMX columns
    of ``table``'s dataflow, all as text (the migrants by age: AGE, no COUNTERPART_AREA)."""
    if table == "age_stock":
        dimensions = f"{sex} AS SEX, {_age('f.age_group')} AS AGE"
    else:
        dimensions = f"{counterpart} AS COUNTERPART_AREA, {sex} AS SEX"
    return f"""
    SELECT '{AGENCY}:{DATAFLOWS[table]}(1.0.' || f.revision || ')' AS DATAFLOW,
           'A' AS FREQ, '{indicator}' AS INDICATOR,
           f.destination_code::VARCHAR AS REF_AREA, {dimensions},
           f.year::VARCHAR AS TIME_PERIOD, ({value})::VARCHAR AS OBS_VALUE,
           '{unit}' AS UNIT_MEASURE,
           CASE WHEN ({value}) IS NULL AND NOT {suppressed} THEN 'M' ELSE 'A' END AS OBS_STATUS,
           CASE WHEN {suppressed} THEN 'C' ELSE 'F' END AS CONF_STATUS,
           replace(b.data_type, ' ', '') AS DATA_TYPE,
           f.revision::VARCHAR AS REVISION, f.raw_sha256 AS SOURCE_SHA256
    FROM {source or table} f
    LEFT JOIN data_basis b ON b.revision = f.revision AND b.destination_code = f.destination_code
    WHERE {{where}}"""


def observations_sql(table: str, revision: int | None = None) -> str:
    """The SELECT giving ``table`` (one revision, or all) as SDMX observations, in the
    columns of :data:`SDMX_COLUMNS`, every value as text."""
    _check_table(table)
    where = "true" if revision is None else f"f.revision = {int(revision)}"
    if table == "flows":
        return _flow_observations(where)
    if table == "bilateral_stock":
        residuals = " ".join(
            f"WHEN '{kind}' THEN '{code}'" for kind, code in RESIDUAL_AREAS.items()
        )
        counterpart = f"CASE f.origin_kind {residuals} ELSE f.origin_code::VARCHAR END"
        parts = [
            _observation(
                table=table,
                indicator="MIGRANT_STOCK",
                counterpart=counterpart,
                sex=_sex("f.sex"),
                value="f.migrants",
                unit="PS",
                suppressed="f.suppressed",
            )
        ]
    elif table == "destination_totals":
        sex = _sex("f.sex")
        parts = [
            _observation(
                table=table,
                indicator="MIGRANT_STOCK",
                counterpart=f"'{WORLD}'",
                sex=sex,
                value="f.migrants",
                unit="PS",
                suppressed="f.suppressed",
            ),
            _observation(
                table=table,
                indicator="TOTAL_POPULATION",
                counterpart=f"'{NOT_APPLICABLE}'",
                sex=sex,
                value="f.total_population",
                unit="PS",
            ),
            _observation(
                table=table,
                indicator="MIGRANT_SHARE",
                counterpart=f"'{WORLD}'",
                sex=sex,
                value="f.migrant_share",
                unit="PT",
            ),
        ]
    elif table == "age_stock":
        sex = _sex("f.sex")
        parts = [
            _observation(
                table=table,
                indicator="MIGRANT_STOCK",
                counterpart=None,
                sex=sex,
                value="f.migrants",
                unit="PS",
                suppressed="f.suppressed",
            ),
            _observation(
                table=table,
                indicator="TOTAL_POPULATION",
                counterpart=None,
                sex=sex,
                value="f.population",
                unit="PS",
                source="age_population",
            ),
        ]
    else:
        parts = [
            _observation(
                table=table,
                indicator=indicator,
                counterpart=f"'{WORLD}'",
                sex="'_T'",
                value=value,
                unit=unit,
            )
            for indicator, value, unit in (
                ("REFUGEES", "f.refugees", "PS"),
                ("REFUGEE_SHARE", "f.refugee_share", "PT"),
            )
        ]
    return "\nUNION ALL\n".join(part.format(where=where) for part in parts)


def revisions_of(con: duckdb.DuckDBPyConnection, table: str | None = None) -> list[int]:
    """The revisions loaded (in ``revisions``) or, with ``table``, those with rows in it."""
    if table is None:
        rows = con.execute("SELECT revision FROM revisions ORDER BY 1").fetchall()
    else:
        _check_table(table)
        sources = [name for name in source_tables(table) if has_relation(con, name)]
        if not sources:  # a store from before the table
            return []
        union = " UNION ".join(f"SELECT DISTINCT revision FROM {name}" for name in sources)
        rows = con.execute(f"SELECT revision FROM ({union}) ORDER BY 1").fetchall()
    return [int(revision) for (revision,) in rows]


#: how DuckDB writes SDMX-CSV (part of each published file's fingerprint)
SDMX_CSV_OPTIONS = "FORMAT csv, HEADER true"


def write_sdmx_csv(
    con: duckdb.DuckDBPyConnection, table: str, output: Path, revision: int | None = None
) -> int:
    """Write ``table`` (one revision or all) as SDMX-CSV 1.0, compressed with gzip when
    ``output`` ends in ``.gz``; return the observation count."""
    query = observations_sql(table, revision)
    if output.name.endswith(".gz"):
        return copy_csv_gz(con, query, output, SDMX_CSV_OPTIONS)
    output.parent.mkdir(parents=True, exist_ok=True)
    escaped = str(output).replace("'", "''")
    result = con.execute(
        f"COPY ({query}) TO '{escaped}' ({SDMX_CSV_OPTIONS}, COMPRESSION none)"
    ).fetchall()
    return int(result[0][0]) if result else 0


# --- the structure (pysdmx objects, imported lazily) -----------------------------------


def _urn(kind: str, artefact_id: str, version: str, item: str | None = None) -> str:
    package = {"Codelist": "codelist", "Concept": "conceptscheme"}[kind]
    parent = {"Codelist": "Codelist", "Concept": "ConceptScheme"}[kind]
    urn = f"urn:sdmx:org.sdmx.infomodel.{package}.{parent}={AGENCY}:{artefact_id}({version})"
    if item is not None:
        urn = urn.replace(f".{parent}=", f".{kind}=") + f".{item}"
    return urn


def _codelist(codelist_id: str, name: str, codes: list[tuple[str, str]], version: str) -> Codelist:
    from pysdmx.model import Code, Codelist

    return Codelist(
        id=codelist_id,
        agency=AGENCY,
        version=version,
        name=name,
        items=[Code(id=code, name=code_name) for code, code_name in codes],
        urn=_urn("Codelist", codelist_id, version),
    )


def _static_artefacts() -> tuple[dict[str, Codelist], ConceptScheme]:
    from pysdmx.model import Concept, ConceptScheme

    codelists = {
        codelist_id: _codelist(codelist_id, name, codes, STATIC_VERSION)
        for codelist_id, (name, codes) in STATIC_CODELISTS.items()
    }
    concepts: list[Concept] = [
        Concept(
            id=component_id,
            name=name,
            description=description,
            urn=_urn("Concept", CONCEPT_SCHEME_ID, STATIC_VERSION, component_id),
        )
        for component_id, _, _, _, name, description in [*COMPONENTS, AGE_COMPONENT]
    ]
    scheme = ConceptScheme(
        id=CONCEPT_SCHEME_ID,
        agency=AGENCY,
        version=STATIC_VERSION,
        name="Concepts of migstock's International Migrant Stock dataflows",
        items=concepts,
    )
    return codelists, scheme


def area_codes(con: duckdb.DuckDBPyConnection, revision: int) -> list[tuple[str, str]]:
    """CL_AREA of ``revision``: every location (M49 code, named as that revision
    published it where it did), the residual origins and ``_Z`` (not applicable)."""
    rows = con.execute(
        "SELECT l.code, coalesce(n.name, l.name) FROM locations l "
        "LEFT JOIN location_names n ON n.code = l.code AND n.revision = ? ORDER BY l.code",
        [revision],
    ).fetchall()
    codes = [(str(code), name) for code, name in rows]
    if WORLD not in {code for code, _ in codes}:  # the totals' "all origins", always used
        codes.append((WORLD, "World"))
    codes += list(RESIDUAL_NAMES.items())
    codes.append((NOT_APPLICABLE, "Not applicable"))
    return codes


def data_type_codes(con: duckdb.DuckDBPyConnection, revision: int) -> list[tuple[str, str]]:
    """CL_DATA_TYPE of ``revision``: the known combinations and any other it publishes."""
    seen = [
        code
        for (code,) in con.execute(
            "SELECT DISTINCT replace(data_type, ' ', '') FROM data_basis WHERE revision = ? "
            "ORDER BY 1",
            [revision],
        ).fetchall()
    ]
    codes = KNOWN_DATA_TYPES + [code for code in seen if code not in KNOWN_DATA_TYPES]
    return [
        (code, "; ".join(DATA_TYPE_LETTERS.get(letter, letter) for letter in code).capitalize())
        for code in codes
    ]


def _flow_static_artefacts() -> tuple[dict[str, Codelist], ConceptScheme]:
    """The codelists and concepts of the flows dataflow (version 1.0): artefacts of their
    own, so that the stock tables' structure is the same with flows or without."""
    from pysdmx.model import Concept, ConceptScheme

    codelists = {
        codelist_id: _codelist(codelist_id, name, codes, STATIC_VERSION)
        for codelist_id, (name, codes) in FLOW_CODELISTS.items()
    }
    scheme = ConceptScheme(
        id=FLOWS_CONCEPT_SCHEME_ID,
        agency=AGENCY,
        version=STATIC_VERSION,
        name="Concepts of migstock's dataflow of flows estimated from stocks",
        items=[
            Concept(
                id=component_id,
                name=name,
                description=description,
                urn=_urn("Concept", FLOWS_CONCEPT_SCHEME_ID, STATIC_VERSION, component_id),
            )
            for component_id, _, _, _, name, description in FLOW_COMPONENTS
        ],
    )
    return codelists, scheme


def _components(
    spec: list[tuple[str, Role, str | None, bool, str, str]],
    concepts: dict[str, Concept],
    codelists: dict[str, Codelist],
) -> Any:
    """pysdmx ``Components`` of a DSD from its specification (:data:`COMPONENTS`)."""
    from pysdmx.model import Component, Components, DataType
    from pysdmx.model import Role as SdmxRole

    roles = {
        "dimension": SdmxRole.DIMENSION,
        "time": SdmxRole.DIMENSION,
        "measure": SdmxRole.MEASURE,
        "attribute": SdmxRole.ATTRIBUTE,
    }
    text_types = {"TIME_PERIOD": DataType.PERIOD, "OBS_VALUE": DataType.DOUBLE}
    return Components(
        [
            Component(
                id=component_id,
                required=required,
                role=roles[role],
                concept=concepts[component_id],
                local_codes=codelists[codelist] if codelist else None,
                local_dtype=text_types.get(component_id, DataType.STRING)
                if codelist is None
                else None,
                attachment_level="O" if role == "attribute" else None,
            )
            for component_id, role, codelist, required, _, _ in spec
        ]
    )


def structure_artefacts(
    con: duckdb.DuckDBPyConnection, revisions: list[int] | None = None
) -> list[Any]:
    """Every artefact of the structure, for the given revisions (default: all loaded):
    the static codelists and concept scheme, and per revision CL_AREA, CL_DATA_TYPE,
    the DSD and a dataflow per fact table that has rows of that revision. A revision
    with estimated flows also has the flows DSD and dataflow (and the structure the
    flows' own static codelists and concept scheme)."""
    from pysdmx.model import Dataflow, DataStructureDefinition

    chosen = revisions_of(con) if revisions is None else revisions
    codelists, scheme = _static_artefacts()
    concepts = {concept.id: concept for concept in scheme.items}
    artefacts: list[Any] = [*codelists.values(), scheme]
    with_rows = {table: set(revisions_of(con, table)) for table in DATAFLOWS}
    flow_codelists, flow_scheme = _flow_static_artefacts()
    if with_rows["flows"] & set(chosen):
        artefacts += [*flow_codelists.values(), flow_scheme]
    flow_concepts = {concept.id: concept for concept in flow_scheme.items}
    for revision in chosen:
        version = version_of(revision)
        own = {
            "CL_AREA": _codelist(
                "CL_AREA", "Areas: UN M49 codes and residual origins", area_codes(con, revision),
                version,
            ),
            "CL_DATA_TYPE": _codelist(
                "CL_DATA_TYPE", "Type of data", data_type_codes(con, revision), version
            ),
        }  # fmt: skip
        artefacts += own.values()
        titles = {
            DSD_ID: (COMPONENTS, "Arab-region curation (migstock)", "bilateral_stock"),
            AGE_DSD_ID: (
                AGE_COMPONENTS,
                "migrants by age, Arab-region curation (migstock)",
                "age_stock",
            ),
        }
        structures: dict[str, DataStructureDefinition] = {}
        for dsd_id, (listed, title, table) in titles.items():
            if dsd_id == AGE_DSD_ID and revision not in with_rows[table]:
                continue  # a DSD by age only for the revisions with age data
            structures[dsd_id] = DataStructureDefinition(
                id=dsd_id,
                agency=AGENCY,
                version=version,
                name=f"International Migrant Stock {revision}, {title}",
                components=_components(listed, concepts, {**codelists, **own}),
            )
            artefacts.append(structures[dsd_id])
        if revision in with_rows["flows"]:
            structures[FLOWS_DSD_ID] = DataStructureDefinition(
                id=FLOWS_DSD_ID,
                agency=AGENCY,
                version=version,
                name=f"Flows estimated from the stocks of International Migrant Stock "
                f"{revision} (migstock)",
                components=_components(
                    FLOW_COMPONENTS, flow_concepts, {**codelists, **flow_codelists, **own}
                ),
            )
            artefacts.append(structures[FLOWS_DSD_ID])
        for table, dataflow_id in DATAFLOWS.items():
            if revision in with_rows[table]:
                artefacts.append(
                    Dataflow(
                        id=dataflow_id,
                        agency=AGENCY,
                        version=version,
                        name=f"{DATAFLOW_NAMES[table]}, revision {revision}",
                        structure=structures[dsd_id_of(table)].short_urn,
                    )
                )
    return artefacts


def _header() -> Any:
    from pysdmx.model import Organisation
    from pysdmx.model.message import Header

    return Header(sender=Organisation(id=AGENCY, name="migstock"))


def write_structure(
    con: duckdb.DuckDBPyConnection, output: Path, revisions: list[int] | None = None
) -> int:
    """Write the structure as SDMX-ML 2.1; return how many artefacts it holds."""
    from pysdmx.io import write_sdmx
    from pysdmx.io.format import Format

    artefacts = structure_artefacts(con, revisions)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_sdmx(artefacts, Format.STRUCTURE_SDMX_ML_2_1, output_path=str(output), header=_header())
    return len(artefacts)


def _dataflow_schemas(
    con: duckdb.DuckDBPyConnection, table: str, revisions: list[int]
) -> dict[int, Any]:
    """The pysdmx ``Schema`` of ``table``'s dataflow in each revision."""
    from pysdmx.model import DataStructureDefinition

    structures = {
        artefact.version: artefact
        for artefact in structure_artefacts(con, revisions)
        if isinstance(artefact, DataStructureDefinition) and artefact.id == dsd_id_of(table)
    }
    schemas = {}
    for number in revisions:
        schema = structures[version_of(number)].to_schema()
        schemas[number] = type(schema)(
            context="dataflow",
            agency=AGENCY,
            id=DATAFLOWS[table],
            version=version_of(number),
            components=schema.components,
            artefacts=schema.artefacts,
            name=DATAFLOW_NAMES[table],
        )
    return schemas


#: the end tag of a data set in pysdmx's SDMX-ML 2.1 structure-specific message
_DATASET_END = "</mes:DataSet>"


def sdmx_ml_envelope(
    con: duckdb.DuckDBPyConnection, table: str, revisions: list[int], header: Any = None
) -> list[str]:
    """The SDMX-ML 2.1 structure-specific message of ``table`` as pysdmx writes it,
    without observations, cut where each data set's observations go: one piece more
    than ``revisions`` (the XML declaration, header and first ``<mes:DataSet ...>``;
    then each ``</mes:DataSet>`` with the next data set's start or the message's end).
    """
    import pandas as pd
    from pysdmx.io import write_sdmx
    from pysdmx.io.format import Format
    from pysdmx.io.pd import PandasDataset

    columns = {column: pd.Series([], dtype="string") for column in sdmx_columns(table)[1:]}
    datasets = [
        PandasDataset(structure=schema, data=pd.DataFrame(columns))
        for schema in _dataflow_schemas(con, table, revisions).values()
    ]
    message = write_sdmx(
        datasets,
        Format.DATA_SDMX_ML_2_1_STR,
        header=header or _header(),
        dimension_at_observation="AllDimensions",
        prettyprint=False,
    )
    pieces = str(message).split(_DATASET_END)
    if len(pieces) != len(revisions) + 1 or not all(p.endswith(">") for p in pieces[:-1]):
        raise MigstockError(f"unexpected SDMX-ML envelope from pysdmx: {message!r:.300}")
    return [pieces[0], *(_DATASET_END + piece for piece in pieces[1:])]


#: characters that must not stand for themselves in an XML attribute value: markup,
#: the quote, and the whitespace a parser would turn into spaces
XML_ATTRIBUTE_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "\t": "&#9;",
    "\n": "&#10;",
    "\r": "&#13;",
}


def escaped_sql(column: str) -> str:
    """SQL: the text of ``column`` escaped for a double-quoted XML attribute value."""
    sql = column
    for character, reference in XML_ATTRIBUTE_ESCAPES.items():  # "&" first
        sql = f"replace({sql}, {_sql_text(character)}, '{reference}')"
    return sql


def _sql_text(text: str) -> str:
    """A SQL string literal of ``text`` (control characters as ``chr(n)``)."""
    if text.isprintable():
        return "'" + text.replace("'", "''") + "'"
    return " || ".join(f"chr({ord(character)})" for character in text)


def obs_elements_sql(table: str, revision: int) -> str:
    """SQL: one row per observation of ``table`` in ``revision``, its ``<Obs .../>``
    element as text, as pysdmx writes it: every non-empty column of
    :func:`sdmx_columns` but DATAFLOW as an attribute, in that order, no whitespace
    between elements; values escaped (:data:`XML_ATTRIBUTE_ESCAPES`). pysdmx reads
    OBS_VALUE as a double and writes it back as Arrow does, a whole number without
    ``.0`` (a share of ``100.0`` is ``100``); so does this."""
    attributes = [
        f"CASE WHEN coalesce({column}, '') = '' THEN '' "
        f"ELSE '{column}=\"' || {escaped_sql(column)} || '\" ' END"
        for column in sdmx_columns(table)[1:]
    ]
    observations = observations_sql(table, revision)
    return (
        f"SELECT concat('<Obs ', {', '.join(attributes)}, '/>') AS obs FROM "
        f"(SELECT * REPLACE (regexp_replace(OBS_VALUE, '\\.0$', '') AS OBS_VALUE) "
        f"FROM ({observations}))"
    )


#: observations per batch DuckDB hands to Python while SDMX-ML is written
SDMX_ML_BATCH_ROWS = 50_000


def write_sdmx_ml(
    con: duckdb.DuckDBPyConnection,
    table: str,
    output: Path,
    revision: int | None = None,
    header: Any = None,
) -> int:
    """Write ``table`` (one revision or all) as SDMX-ML 2.1 structure-specific data, one
    data set per revision (each references its own dataflow version); return the count.

    The message is pysdmx's (:func:`sdmx_ml_envelope`, ``header``: a pysdmx ``Header``,
    default a new one); the observations are written as DuckDB makes them
    (:func:`obs_elements_sql`), a batch at a time, so memory does not grow with the table.
    """
    _check_table(table)
    chosen = revisions_of(con, table) if revision is None else [revision]
    pieces = sdmx_ml_envelope(con, table, chosen, header)
    output.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with output.open("wb") as handle, _one_thread(con):
        handle.write(pieces[0].encode("utf-8"))
        for number, after in zip(chosen, pieces[1:], strict=True):
            reader = con.sql(obs_elements_sql(table, number)).to_arrow_reader(SDMX_ML_BATCH_ROWS)
            for batch in reader:
                handle.write("".join(batch.column(0).to_pylist()).encode("utf-8"))
                count += batch.num_rows
            handle.write(after.encode("utf-8"))
    return count


@contextlib.contextmanager
def _one_thread(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB on one thread while observations stream: a stream over several threads
    mixes their order, one keeps the store's (as a materialized result would), and is as
    fast here (Python formats the batches); the setting is restored after."""
    ((threads,),) = con.execute("SELECT current_setting('threads')").fetchall()
    con.execute("SET threads = 1")
    try:
        yield
    finally:
        con.execute(f"SET threads = {int(threads)}")
