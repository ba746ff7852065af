-- Arab-region views over the curated tables. Every view keeps revision, year and sex.
CREATE OR REPLACE VIEW arab_immigrants AS
SELECT b.revision, b.year, b.sex,
       b.destination_code, d.name AS destination, d.arab_subregion AS destination_subregion,
       b.origin_code, b.origin_kind,
       CASE b.origin_kind WHEN 'other_north' THEN 'Other North' WHEN 'other_south' THEN 'Other South'
            WHEN 'other' THEN 'Other' ELSE o.name END AS origin,
       b.migrants
FROM bilateral_stock b
JOIN locations d ON d.code = b.destination_code AND d.arab_region
LEFT JOIN locations o ON o.code = b.origin_code;
COMMENT ON VIEW arab_immigrants IS 'Migrants living in each of the 22 Arab countries, by origin (including the total and residual origins)';

CREATE OR REPLACE VIEW arab_region_totals AS
WITH stock AS (
    SELECT revision, year, destination_code, sex, migrants, 'destination_totals' AS source
    FROM destination_totals
    UNION ALL
    SELECT revision, year, destination_code, sex, migrants, 'bilateral' AS source
    FROM bilateral_stock b
    WHERE origin_kind = 'total'
      AND NOT EXISTS (SELECT 1 FROM destination_totals t
                      WHERE t.revision = b.revision AND t.year = b.year AND t.sex = b.sex)
)
SELECT s.revision, s.year, s.sex,
       COALESCE(l.arab_subregion, 'Arab region') AS region,
       count(s.migrants) AS countries_reporting,
       sum(s.migrants)::BIGINT AS migrants,
       any_value(s.source) AS source
FROM stock s
JOIN locations l ON l.code = s.destination_code AND l.arab_region
GROUP BY GROUPING SETS ((s.revision, s.year, s.sex), (s.revision, s.year, s.sex, l.arab_subregion));
COMMENT ON VIEW arab_region_totals IS 'Migrant stock summed over the 22 Arab League members (region = Arab region) and over each ESCWA sub-region';
