-- migstock curated store: tables (a public contract). Descriptions: docs.toml.
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL);

CREATE TABLE IF NOT EXISTS revisions (
    revision SMALLINT PRIMARY KEY,
    title VARCHAR NOT NULL,
    published VARCHAR,
    citation VARCHAR NOT NULL,
    licence VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS raw_files (
    sha256 VARCHAR PRIMARY KEY,
    revision SMALLINT NOT NULL,
    dataset VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    url VARCHAR,
    origin VARCHAR NOT NULL,
    size_bytes BIGINT NOT NULL,
    etag VARCHAR,
    last_modified VARCHAR,
    retrieved_at TIMESTAMPTZ,
    loaded_at TIMESTAMPTZ NOT NULL,
    licence VARCHAR NOT NULL,
    citation VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS location_names (
    revision SMALLINT NOT NULL,
    code SMALLINT NOT NULL,
    name VARCHAR NOT NULL,
    PRIMARY KEY (revision, code)
);

-- one row per M49 code; name is the M49 reference name for every code the reference
-- holds (a workbook never rewrites it: names as published are in location_names), the
-- newest published name only for the UN's aggregates (parse.harmonize.build_locations)
CREATE TABLE IF NOT EXISTS locations (
    code SMALLINT PRIMARY KEY,
    name VARCHAR NOT NULL,
    iso3 VARCHAR,
    kind VARCHAR NOT NULL,
    is_aggregate BOOLEAN NOT NULL,
    un_region VARCHAR,
    un_subregion VARCHAR,
    is_ldc BOOLEAN,
    arab_region BOOLEAN NOT NULL,
    arab_subregion VARCHAR
);

CREATE TABLE IF NOT EXISTS bilateral_stock (
    revision SMALLINT NOT NULL,
    year SMALLINT NOT NULL,
    destination_code SMALLINT NOT NULL,
    origin_code SMALLINT,
    origin_kind VARCHAR NOT NULL,
    sex VARCHAR NOT NULL,
    migrants BIGINT,
    suppressed BOOLEAN NOT NULL DEFAULT false,
    raw_sha256 VARCHAR NOT NULL,
    source_sheet VARCHAR NOT NULL,
    source_row INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS destination_totals (
    revision SMALLINT NOT NULL,
    year SMALLINT NOT NULL,
    destination_code SMALLINT NOT NULL,
    sex VARCHAR NOT NULL,
    migrants BIGINT,
    total_population BIGINT,
    migrant_share DOUBLE,
    suppressed BOOLEAN NOT NULL DEFAULT false,
    raw_sha256 VARCHAR NOT NULL,
    source_sheet VARCHAR NOT NULL,
    source_row INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS refugees (
    revision SMALLINT NOT NULL,
    year SMALLINT NOT NULL,
    destination_code SMALLINT NOT NULL,
    refugees BIGINT,
    refugee_share DOUBLE,
    raw_sha256 VARCHAR NOT NULL,
    source_sheet VARCHAR NOT NULL,
    source_row INTEGER NOT NULL
);

-- migrants by age and sex (the age workbooks, 2013-2020 revisions; 2024 has none);
-- age_group: the UN's five-year bands '0-4' ... '70-74', '75+', and 'total' (all ages)
CREATE TABLE IF NOT EXISTS age_stock (
    revision SMALLINT NOT NULL,
    year SMALLINT NOT NULL,
    destination_code SMALLINT NOT NULL,
    sex VARCHAR NOT NULL,
    age_group VARCHAR NOT NULL,
    migrants BIGINT,
    suppressed BOOLEAN NOT NULL DEFAULT false,
    raw_sha256 VARCHAR NOT NULL,
    source_sheet VARCHAR NOT NULL,
    source_row INTEGER NOT NULL
);

-- total population by age and sex of the same workbooks, in persons (published in thousands)
CREATE TABLE IF NOT EXISTS age_population (
    revision SMALLINT NOT NULL,
    year SMALLINT NOT NULL,
    destination_code SMALLINT NOT NULL,
    sex VARCHAR NOT NULL,
    age_group VARCHAR NOT NULL,
    population BIGINT,
    raw_sha256 VARCHAR NOT NULL,
    source_sheet VARCHAR NOT NULL,
    source_row INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS data_basis (
    revision SMALLINT NOT NULL,
    destination_code SMALLINT NOT NULL,
    data_type VARCHAR NOT NULL,
    basis VARCHAR,
    refugees_added BOOLEAN NOT NULL,
    PRIMARY KEY (revision, destination_code)
);

CREATE TABLE IF NOT EXISTS location_notes (
    revision SMALLINT NOT NULL,
    location_code SMALLINT NOT NULL,
    note_number SMALLINT NOT NULL,
    note_text VARCHAR,
    PRIMARY KEY (revision, location_code, note_number)
);

-- stores written before the column existed
ALTER TABLE bilateral_stock ADD COLUMN IF NOT EXISTS suppressed BOOLEAN DEFAULT false;
ALTER TABLE destination_totals ADD COLUMN IF NOT EXISTS suppressed BOOLEAN DEFAULT false;

-- what each load changed: per revision and table, then the largest changes for Arab countries
CREATE TABLE IF NOT EXISTS load_changes (
    loaded_at TIMESTAMPTZ NOT NULL,
    revision SMALLINT NOT NULL,
    table_name VARCHAR NOT NULL,
    rows_before BIGINT NOT NULL,
    rows_after BIGINT NOT NULL,
    added BIGINT NOT NULL,
    removed BIGINT NOT NULL,
    changed BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS load_changes_arab (
    loaded_at TIMESTAMPTZ NOT NULL,
    revision SMALLINT NOT NULL,
    table_name VARCHAR NOT NULL,
    year SMALLINT NOT NULL,
    destination_code SMALLINT NOT NULL,
    origin_code SMALLINT,
    origin_kind VARCHAR,
    sex VARCHAR NOT NULL,
    migrants_before BIGINT,
    migrants_after BIGINT
);

-- flows estimated from the bilateral stocks (migstock flows): one revision replaced at a time
CREATE TABLE IF NOT EXISTS flows (
    revision SMALLINT NOT NULL,
    period_start SMALLINT NOT NULL,
    period_end SMALLINT NOT NULL,
    origin_code SMALLINT NOT NULL,
    destination_code SMALLINT NOT NULL,
    sex VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    flow DOUBLE NOT NULL,
    vital_events BOOLEAN NOT NULL
);

-- how each revision's flows were estimated: when, from which stocks and births and deaths
CREATE TABLE IF NOT EXISTS flow_estimates (
    revision SMALLINT PRIMARY KEY,
    estimated_at TIMESTAMPTZ NOT NULL,
    periods VARCHAR NOT NULL,
    places SMALLINT NOT NULL,
    flow_rows BIGINT NOT NULL,
    vital_events BOOLEAN NOT NULL,
    stocks_sha256 VARCHAR NOT NULL,
    wpp_file VARCHAR,
    wpp_sha256 VARCHAR,
    wpp_size_bytes BIGINT,
    wpp_citation VARCHAR,
    method_citation VARCHAR NOT NULL,
    software VARCHAR NOT NULL
);
