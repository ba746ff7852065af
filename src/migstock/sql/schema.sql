-- migstock curated store: tables (a public contract; see docs/data-dictionary.md)
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL);

CREATE TABLE IF NOT EXISTS revisions (
    revision SMALLINT PRIMARY KEY,
    title VARCHAR NOT NULL,
    published VARCHAR,
    citation VARCHAR NOT NULL,
    licence VARCHAR NOT NULL
);
COMMENT ON TABLE revisions IS 'Published revisions of UN DESA International Migrant Stock that are loaded';

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
COMMENT ON TABLE raw_files IS 'Provenance of every raw workbook whose rows are loaded';
COMMENT ON COLUMN raw_files.origin IS 'download, landing zone (data/raw) or a --raw-dir folder';

CREATE TABLE IF NOT EXISTS location_names (
    revision SMALLINT NOT NULL,
    code SMALLINT NOT NULL,
    name VARCHAR NOT NULL,
    PRIMARY KEY (revision, code)
);
COMMENT ON TABLE location_names IS 'Location names exactly as each revision published them (footnote marks removed)';

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
COMMENT ON TABLE locations IS 'One row per M49 code: countries and the UN aggregates (codes >= 900) seen in the data';
COMMENT ON COLUMN locations.code IS 'M49 numeric code';
COMMENT ON COLUMN locations.name IS 'Name in the newest loaded revision, else the M49 standard name';
COMMENT ON COLUMN locations.is_aggregate IS 'True for world, regions, development and income groups (code >= 900): never add them to country sums';
COMMENT ON COLUMN locations.arab_region IS 'One of the 22 League of Arab States members';
COMMENT ON COLUMN locations.arab_subregion IS 'ESCWA sub-region: GCC, Mashreq, Maghreb or Arab LDCs';

CREATE TABLE IF NOT EXISTS bilateral_stock (
    revision SMALLINT NOT NULL,
    year SMALLINT NOT NULL,
    destination_code SMALLINT NOT NULL,
    origin_code SMALLINT,
    origin_kind VARCHAR NOT NULL,
    sex VARCHAR NOT NULL,
    migrants BIGINT,
    raw_sha256 VARCHAR NOT NULL,
    source_sheet VARCHAR NOT NULL,
    source_row INTEGER NOT NULL
);
COMMENT ON TABLE bilateral_stock IS 'International migrant stock at mid-year by destination, origin and sex';
COMMENT ON COLUMN bilateral_stock.revision IS 'Revision (publication) the estimate comes from';
COMMENT ON COLUMN bilateral_stock.year IS 'Reference year (stock at mid-year)';
COMMENT ON COLUMN bilateral_stock.destination_code IS 'M49 code of the country or area of destination (aggregates >= 900)';
COMMENT ON COLUMN bilateral_stock.origin_code IS 'M49 code of the origin; NULL only for Other North/Other South/Other residuals';
COMMENT ON COLUMN bilateral_stock.origin_kind IS 'country, aggregate, total (all origins, code 900), other_north, other_south or other';
COMMENT ON COLUMN bilateral_stock.sex IS 'total, male or female';
COMMENT ON COLUMN bilateral_stock.migrants IS 'Number of international migrants; NULL = not available (..), 0 = none';
COMMENT ON COLUMN bilateral_stock.raw_sha256 IS 'sha256 of the raw file the row came from (raw_files.sha256)';
COMMENT ON COLUMN bilateral_stock.source_sheet IS 'Sheet of the raw file the row came from';
COMMENT ON COLUMN bilateral_stock.source_row IS 'Excel row number (1-based) in that sheet';

CREATE TABLE IF NOT EXISTS destination_totals (
    revision SMALLINT NOT NULL,
    year SMALLINT NOT NULL,
    destination_code SMALLINT NOT NULL,
    sex VARCHAR NOT NULL,
    migrants BIGINT,
    total_population BIGINT,
    migrant_share DOUBLE,
    raw_sha256 VARCHAR NOT NULL,
    source_sheet VARCHAR NOT NULL,
    source_row INTEGER NOT NULL
);
COMMENT ON TABLE destination_totals IS 'International migrant stock by destination and sex, with total population, from the destination-totals workbooks';
COMMENT ON COLUMN destination_totals.migrants IS 'International migrant stock at mid-year (Table 1); NULL = not available';
COMMENT ON COLUMN destination_totals.total_population IS 'Total population at mid-year in persons (published in thousands, Table 2)';
COMMENT ON COLUMN destination_totals.migrant_share IS 'Migrants as a percentage of the total population, as published (Table 3)';
