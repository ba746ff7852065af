-- Views over the curated tables (a public contract). Descriptions: docs.toml.
-- Every view keeps revision and year; views by sex keep sex.

CREATE OR REPLACE VIEW destination_stock AS
SELECT revision, year, destination_code, sex, migrants, 'destination_totals' AS source
FROM destination_totals
UNION ALL
SELECT revision, year, destination_code, sex, migrants, 'bilateral' AS source
FROM bilateral_stock b
WHERE origin_kind = 'total'
  AND NOT EXISTS (SELECT 1 FROM destination_totals t
                  WHERE t.revision = b.revision AND t.year = b.year AND t.sex = b.sex);

CREATE OR REPLACE VIEW arab_immigrants AS
SELECT b.revision, b.year, b.sex,
       b.destination_code, d.name AS destination, d.arab_subregion AS destination_subregion,
       b.origin_code, b.origin_kind,
       CASE b.origin_kind WHEN 'other_north' THEN 'Other North' WHEN 'other_south' THEN 'Other South'
            WHEN 'other' THEN 'Other' ELSE o.name END AS origin,
       o.arab_region AS origin_is_arab,
       b.migrants
FROM bilateral_stock b
JOIN locations d ON d.code = b.destination_code AND d.arab_region
LEFT JOIN locations o ON o.code = b.origin_code;

CREATE OR REPLACE VIEW arab_emigrants AS
SELECT b.revision, b.year, b.sex,
       b.origin_code, o.name AS origin, o.arab_subregion AS origin_subregion,
       b.destination_code, d.name AS destination, d.is_aggregate AS destination_is_aggregate,
       d.arab_region AS destination_is_arab,
       b.migrants
FROM bilateral_stock b
JOIN locations o ON o.code = b.origin_code AND o.arab_region
JOIN locations d ON d.code = b.destination_code;

CREATE OR REPLACE VIEW intra_arab AS
SELECT revision, year, sex, origin_code, origin, origin_subregion,
       destination_code, destination, migrants
FROM arab_emigrants
WHERE destination_is_arab;

CREATE OR REPLACE VIEW arab_region_totals AS
SELECT s.revision, s.year, s.sex,
       COALESCE(l.arab_subregion, 'Arab region') AS region,
       count(s.migrants) AS countries_reporting,
       sum(s.migrants)::BIGINT AS migrants,
       any_value(s.source) AS source
FROM destination_stock s
JOIN locations l ON l.code = s.destination_code AND l.arab_region
GROUP BY GROUPING SETS ((s.revision, s.year, s.sex), (s.revision, s.year, s.sex, l.arab_subregion));

CREATE OR REPLACE VIEW female_share AS
WITH by_place AS (
    SELECT s.revision, s.year, l.name AS place, s.destination_code AS code, s.sex, s.migrants
    FROM destination_stock s JOIN locations l ON l.code = s.destination_code
    UNION ALL
    SELECT revision, year, region AS place, NULL::SMALLINT AS code, sex, migrants
    FROM arab_region_totals
)
SELECT revision, year, code AS destination_code, place AS destination,
       max(migrants) FILTER (WHERE sex = 'female') AS female_migrants,
       max(migrants) FILTER (WHERE sex = 'total') AS all_migrants,
       round(100.0 * female_migrants / NULLIF(all_migrants, 0), 2) AS female_share_pct
FROM by_place
GROUP BY revision, year, code, place;

CREATE OR REPLACE VIEW migrant_share_of_population AS
WITH arab AS (
    SELECT t.revision, t.year, t.sex, COALESCE(l.arab_subregion, 'Arab region') AS region,
           sum(t.migrants)::BIGINT AS migrants, sum(t.total_population)::BIGINT AS total_population
    FROM destination_totals t JOIN locations l ON l.code = t.destination_code AND l.arab_region
    GROUP BY GROUPING SETS ((t.revision, t.year, t.sex), (t.revision, t.year, t.sex, l.arab_subregion))
)
SELECT t.revision, t.year, t.sex, t.destination_code, l.name AS destination,
       t.migrants, t.total_population, t.migrant_share AS migrant_share_pct
FROM destination_totals t JOIN locations l ON l.code = t.destination_code
UNION ALL
SELECT revision, year, sex, NULL::SMALLINT, region, migrants, total_population,
       round(100.0 * migrants / NULLIF(total_population, 0), 2)
FROM arab;

CREATE OR REPLACE VIEW revision_changes AS
WITH places AS (
    SELECT s.revision, s.year, s.sex, s.destination_code, l.name AS destination, s.migrants
    FROM destination_stock s JOIN locations l ON l.code = s.destination_code
    UNION ALL
    SELECT revision, year, sex, NULL::SMALLINT, region, migrants FROM arab_region_totals
)
SELECT year, sex, destination_code, destination, revision, migrants,
       lag(revision) OVER w AS previous_revision,
       lag(migrants) OVER w AS previous_migrants,
       migrants - previous_migrants AS change,
       round(100.0 * change / NULLIF(previous_migrants, 0), 2) AS change_pct
FROM places
WINDOW w AS (PARTITION BY year, sex, destination_code, destination ORDER BY revision);

CREATE OR REPLACE VIEW latest_arab_immigrants AS
SELECT * FROM arab_immigrants WHERE revision = (SELECT max(revision) FROM bilateral_stock);
CREATE OR REPLACE VIEW latest_arab_emigrants AS
SELECT * FROM arab_emigrants WHERE revision = (SELECT max(revision) FROM bilateral_stock);
CREATE OR REPLACE VIEW latest_intra_arab AS
SELECT * FROM intra_arab WHERE revision = (SELECT max(revision) FROM bilateral_stock);
CREATE OR REPLACE VIEW latest_arab_region_totals AS
SELECT * FROM arab_region_totals WHERE revision = (SELECT max(revision) FROM destination_stock);
CREATE OR REPLACE VIEW latest_female_share AS
SELECT * FROM female_share WHERE revision = (SELECT max(revision) FROM destination_stock);
CREATE OR REPLACE VIEW latest_migrant_share_of_population AS
SELECT * FROM migrant_share_of_population WHERE revision = (SELECT max(revision) FROM destination_totals);
