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
       b.migrants,
       db.data_type AS destination_data_type, db.basis AS destination_basis,
       db.refugees_added AS destination_refugees_added
FROM bilateral_stock b
JOIN locations d ON d.code = b.destination_code AND d.arab_region
LEFT JOIN locations o ON o.code = b.origin_code
LEFT JOIN data_basis db ON db.revision = b.revision AND db.destination_code = b.destination_code;

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
       any_value(s.source) AS source,
       count(*) FILTER (WHERE db.basis LIKE '%foreign_born%') AS countries_foreign_born,
       count(*) FILTER (WHERE db.basis LIKE '%citizenship%') AS countries_citizenship,
       count(*) FILTER (WHERE db.basis = 'imputed') AS countries_imputed,
       count(*) FILTER (WHERE db.refugees_added) AS countries_refugees_added
FROM destination_stock s
JOIN locations l ON l.code = s.destination_code AND l.arab_region
LEFT JOIN data_basis db ON db.revision = s.revision AND db.destination_code = s.destination_code
GROUP BY GROUPING SETS ((s.revision, s.year, s.sex), (s.revision, s.year, s.sex, l.arab_subregion));

CREATE OR REPLACE VIEW arab_refugees AS
WITH country AS (
    SELECT r.revision, r.year, r.destination_code AS code, l.name, l.arab_subregion,
           r.refugees, t.migrants, r.refugee_share,
           -- a country note saying so (State of Palestine: "Refugees are not part of the
           -- foreign-born migrant stock"); everywhere else refugees are migrants too
           NOT EXISTS (SELECT 1 FROM location_notes n
                       WHERE n.revision = r.revision AND n.location_code = r.destination_code
                         AND n.note_text ILIKE '%refugees are not part of%migrant stock%')
               AS refugees_in_migrant_stock
    FROM refugees r
    JOIN locations l ON l.code = r.destination_code AND l.arab_region
    LEFT JOIN destination_totals t ON t.revision = r.revision AND t.year = r.year
         AND t.destination_code = r.destination_code AND t.sex = 'total'
),
country_sums AS (
    SELECT *,
           CASE WHEN refugees_in_migrant_stock THEN 0 ELSE refugees END
               AS refugees_outside_migrant_stock,
           migrants + CASE WHEN refugees_in_migrant_stock THEN 0 ELSE refugees END
               AS migrants_and_refugees
    FROM country
)
SELECT revision, year, 'country' AS level, code, name, arab_subregion AS subregion,
       refugees, migrants, refugee_share, refugees_in_migrant_stock,
       refugees_outside_migrant_stock, migrants_and_refugees
FROM country_sums
UNION ALL
SELECT revision, year,
       CASE WHEN grouping(arab_subregion) = 1 THEN 'region' ELSE 'subregion' END,
       NULL::SMALLINT,
       CASE WHEN grouping(arab_subregion) = 1 THEN 'Arab region' ELSE arab_subregion END,
       CASE WHEN grouping(arab_subregion) = 1 THEN NULL ELSE arab_subregion END,
       sum(refugees)::BIGINT, sum(migrants)::BIGINT,
       100.0 * sum(refugees) / NULLIF(sum(migrants), 0),
       bool_and(refugees_in_migrant_stock),
       sum(refugees_outside_migrant_stock)::BIGINT, sum(migrants_and_refugees)::BIGINT
FROM country_sums
GROUP BY GROUPING SETS ((revision, year), (revision, year, arab_subregion));

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
CREATE OR REPLACE VIEW latest_arab_refugees AS
SELECT * FROM arab_refugees WHERE revision = (SELECT max(revision) FROM refugees);

-- Migrants by age (age_stock, age_population). The bands are the UN's; 'total' is all ages.
CREATE OR REPLACE VIEW age_groups AS
SELECT age_group, age_from, age_to, band_order
FROM (VALUES ('0-4', 0, 4, 1), ('5-9', 5, 9, 2), ('10-14', 10, 14, 3), ('15-19', 15, 19, 4),
             ('20-24', 20, 24, 5), ('25-29', 25, 29, 6), ('30-34', 30, 34, 7),
             ('35-39', 35, 39, 8), ('40-44', 40, 44, 9), ('45-49', 45, 49, 10),
             ('50-54', 50, 54, 11), ('55-59', 55, 59, 12), ('60-64', 60, 64, 13),
             ('65-69', 65, 69, 14), ('70-74', 70, 74, 15), ('75+', 75, NULL, 16))
     AS t(age_group, age_from, age_to, band_order);

CREATE OR REPLACE VIEW arab_migrants_by_age AS
WITH country AS (
    SELECT a.revision, a.year, a.sex, a.destination_code AS code, l.name, l.arab_subregion,
           a.age_group, a.migrants, p.population
    FROM age_stock a
    JOIN locations l ON l.code = a.destination_code AND l.arab_region
    LEFT JOIN age_population p ON p.revision = a.revision AND p.year = a.year
         AND p.destination_code = a.destination_code AND p.sex = a.sex
         AND p.age_group = a.age_group
),
places AS (
    SELECT revision, year, sex, 'country' AS level, code, name, arab_subregion AS subregion,
           age_group, migrants, population, CASE WHEN migrants IS NULL THEN 0 ELSE 1 END
               AS countries_reporting
    FROM country
    UNION ALL
    SELECT revision, year, sex,
           CASE WHEN grouping(arab_subregion) = 1 THEN 'region' ELSE 'subregion' END,
           NULL::SMALLINT,
           CASE WHEN grouping(arab_subregion) = 1 THEN 'Arab region' ELSE arab_subregion END,
           CASE WHEN grouping(arab_subregion) = 1 THEN NULL ELSE arab_subregion END,
           age_group, sum(migrants)::BIGINT, sum(population)::BIGINT, count(migrants)
    FROM country
    GROUP BY GROUPING SETS ((revision, year, sex, age_group),
                            (revision, year, sex, age_group, arab_subregion))
)
SELECT p.revision, p.year, p.sex, p.level, p.code, p.name, p.subregion,
       p.age_group, g.age_from, g.age_to, p.migrants, p.population,
       round(100.0 * p.migrants / NULLIF(max(p.migrants) FILTER (WHERE p.age_group = 'total')
             OVER (PARTITION BY p.revision, p.year, p.sex, p.level, p.name), 0), 2)
           AS pct_of_migrants,
       round(100.0 * p.migrants / NULLIF(p.population, 0), 2) AS migrant_share_of_population_pct,
       p.countries_reporting
FROM places p
LEFT JOIN age_groups g ON g.age_group = p.age_group;

-- Shares of broad age groups and the median age: computed from the 16 bands (NULL unless
-- all 16 have a value); the median is interpolated linearly within the band that holds
-- the middle migrant, median = L + (N/2 - F) / f x 5 (L the band's lower age, F the
-- migrants in younger bands, f the band's migrants, N all migrants), NULL when it falls
-- in the open band 75+.
CREATE OR REPLACE VIEW arab_migrant_age_structure AS
WITH bands AS (
    SELECT revision, year, sex, level, code, name, subregion, age_group, age_from, age_to,
           migrants, countries_reporting,
           sum(migrants) OVER (PARTITION BY revision, year, sex, level, name
                               ORDER BY age_from) AS up_to
    FROM arab_migrants_by_age
    WHERE age_group <> 'total'
),
summed AS (
    SELECT revision, year, sex, level, code, name, subregion,
           count(migrants) AS bands_with_values,
           sum(migrants) AS all_ages,
           sum(migrants) FILTER (WHERE age_from < 15) AS under_15,
           sum(migrants) FILTER (WHERE age_from < 20) AS under_20,
           sum(migrants) FILTER (WHERE age_from >= 20 AND age_from < 65) AS aged_20_64,
           sum(migrants) FILTER (WHERE age_from >= 65) AS aged_65_plus,
           min(countries_reporting) AS countries_reporting
    FROM bands
    GROUP BY ALL
),
median_band AS (
    SELECT b.revision, b.year, b.sex, b.level, b.name,
           min(b.age_from) AS median_from
    FROM bands b
    JOIN summed s USING (revision, year, sex, level, name)
    WHERE s.bands_with_values = 16 AND s.all_ages > 0 AND b.up_to >= s.all_ages / 2.0
    GROUP BY ALL
)
SELECT s.revision, s.year, s.sex, s.level, s.code, s.name, s.subregion,
       c.migrants,
       round(100.0 * s.under_15 / NULLIF(c.migrants, 0), 2) AS share_under_15_pct,
       round(100.0 * s.under_20 / NULLIF(c.migrants, 0), 2) AS share_under_20_pct,
       round(100.0 * s.aged_20_64 / NULLIF(c.migrants, 0), 2) AS share_20_64_pct,
       round(100.0 * s.aged_65_plus / NULLIF(c.migrants, 0), 2) AS share_65_plus_pct,
       round(CASE WHEN b.age_to IS NOT NULL AND b.migrants > 0 THEN
           b.age_from + 5.0 * (c.migrants / 2.0 - (b.up_to - b.migrants)) / b.migrants
       END, 1) AS median_age,
       s.countries_reporting
FROM summed s
-- all ages: the sum of the bands, only when every band has a value
CROSS JOIN LATERAL (SELECT CASE WHEN s.bands_with_values = 16 THEN s.all_ages END::BIGINT
                           AS migrants) c
LEFT JOIN median_band m USING (revision, year, sex, level, name)
LEFT JOIN bands b ON b.revision = s.revision AND b.year = s.year AND b.sex = s.sex
     AND b.level = s.level AND b.name = s.name AND b.age_from = m.median_from;

CREATE OR REPLACE VIEW latest_arab_migrants_by_age AS
SELECT * FROM arab_migrants_by_age WHERE revision = (SELECT max(revision) FROM age_stock);
CREATE OR REPLACE VIEW latest_arab_migrant_age_structure AS
SELECT * FROM arab_migrant_age_structure WHERE revision = (SELECT max(revision) FROM age_stock);

-- Flows estimated from the stocks (table flows) for the Arab region. A sub-region's or
-- the region's inflows come from outside it (moves between its members are inside it).
CREATE OR REPLACE VIEW arab_flow_units AS
SELECT code, 'country' AS level, CAST(code AS VARCHAR) AS unit, code AS place_code, name AS place,
       arab_subregion AS subregion
FROM locations WHERE arab_region
UNION ALL
SELECT code, 'subregion', arab_subregion, NULL::SMALLINT, arab_subregion, arab_subregion
FROM locations WHERE arab_region AND arab_subregion IS NOT NULL
UNION ALL
SELECT code, 'region', 'Arab region', NULL::SMALLINT, 'Arab region', NULL
FROM locations WHERE arab_region;

CREATE OR REPLACE VIEW arab_flow_origins AS
SELECT f.revision, f.period_start, f.period_end, f.sex, f.method,
       u.level, u.place_code, u.place, f.origin_code, o.name AS origin,
       coalesce(o.arab_region, false) AS origin_is_arab,
       sum(f.flow) AS flow,
       row_number() OVER (PARTITION BY f.revision, f.period_start, f.sex, f.method, u.unit
                          ORDER BY sum(f.flow) DESC, o.name) AS rank
FROM flows f
JOIN arab_flow_units u ON u.code = f.destination_code
LEFT JOIN arab_flow_units inside ON inside.code = f.origin_code AND inside.unit = u.unit
LEFT JOIN locations o ON o.code = f.origin_code
WHERE inside.code IS NULL
GROUP BY f.revision, f.period_start, f.period_end, f.sex, f.method, u.level, u.unit,
         u.place_code, u.place, f.origin_code, o.name, o.arab_region;

CREATE OR REPLACE VIEW arab_flow_destinations AS
SELECT f.revision, f.period_start, f.period_end, f.sex, f.method,
       u.level, u.place_code, u.place, f.destination_code, d.name AS destination,
       coalesce(d.arab_region, false) AS destination_is_arab,
       sum(f.flow) AS flow,
       row_number() OVER (PARTITION BY f.revision, f.period_start, f.sex, f.method, u.unit
                          ORDER BY sum(f.flow) DESC, d.name) AS rank
FROM flows f
JOIN arab_flow_units u ON u.code = f.origin_code
LEFT JOIN arab_flow_units inside ON inside.code = f.destination_code AND inside.unit = u.unit
LEFT JOIN locations d ON d.code = f.destination_code
WHERE inside.code IS NULL
GROUP BY f.revision, f.period_start, f.period_end, f.sex, f.method, u.level, u.unit,
         u.place_code, u.place, f.destination_code, d.name, d.arab_region;

CREATE OR REPLACE VIEW arab_flows AS
WITH moves AS (
    SELECT revision, period_start, period_end, sex, method, level, place_code, place,
           flow AS inflow, 0.0 AS outflow, origin_is_arab AS other_end_arab
    FROM arab_flow_origins
    UNION ALL
    SELECT revision, period_start, period_end, sex, method, level, place_code, place,
           0.0, flow, destination_is_arab
    FROM arab_flow_destinations
)
SELECT revision, period_start, period_end, sex, method, level, place_code, place,
       sum(inflow) AS inflow, sum(outflow) AS outflow, sum(inflow) - sum(outflow) AS net,
       sum(inflow) FILTER (WHERE other_end_arab) AS inflow_from_arab,
       sum(outflow) FILTER (WHERE other_end_arab) AS outflow_to_arab
FROM moves
GROUP BY ALL;

CREATE OR REPLACE VIEW intra_arab_flows AS
SELECT f.revision, f.period_start, f.period_end, f.sex, f.method,
       f.origin_code, o.name AS origin, o.arab_subregion AS origin_subregion,
       f.destination_code, d.name AS destination, d.arab_subregion AS destination_subregion,
       f.flow
FROM flows f
JOIN locations o ON o.code = f.origin_code AND o.arab_region
JOIN locations d ON d.code = f.destination_code AND d.arab_region;

CREATE OR REPLACE VIEW latest_arab_flows AS
SELECT * FROM arab_flows WHERE revision = (SELECT max(revision) FROM flows);
CREATE OR REPLACE VIEW latest_arab_flow_origins AS
SELECT * FROM arab_flow_origins WHERE revision = (SELECT max(revision) FROM flows);
CREATE OR REPLACE VIEW latest_arab_flow_destinations AS
SELECT * FROM arab_flow_destinations WHERE revision = (SELECT max(revision) FROM flows);
CREATE OR REPLACE VIEW latest_intra_arab_flows AS
SELECT * FROM intra_arab_flows WHERE revision = (SELECT max(revision) FROM flows);
