-- Duplicates removed per day
-- Raw page_view lines per day (the _raw tables keep every delivery, resends included) minus compacted
-- rows per day: the copies compaction dropped.
SELECT r.tenant, r.year, r.month, r.day, r.raw_rows - c.compacted_rows AS duplicates_removed
FROM (SELECT tenant, year, month, day, count(*) AS raw_rows FROM page_view_raw GROUP BY 1, 2, 3, 4) AS r
JOIN (SELECT tenant, year, month, day, count(*) AS compacted_rows FROM page_view GROUP BY 1, 2, 3, 4) AS c
  ON r.tenant = c.tenant AND r.year = c.year AND r.month = c.month AND r.day = c.day
ORDER BY r.year DESC, r.month DESC, r.day DESC, r.tenant
