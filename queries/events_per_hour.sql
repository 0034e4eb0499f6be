-- Events per hour per type
-- Compacted events per hour received (UTC), per tenant and type, for every built-in type: ours and
-- Segment's.
SELECT tenant, event_type, date_format(from_unixtime(received_at / 1000), '%Y-%m-%d %H:00') AS hour,
       count(*) AS events
FROM (
  SELECT tenant, event_type, received_at FROM page_view
  UNION ALL
  SELECT tenant, event_type, received_at FROM button_click
  UNION ALL
  SELECT tenant, event_type, received_at FROM track
  UNION ALL
  SELECT tenant, event_type, received_at FROM screen
  UNION ALL
  SELECT tenant, event_type, received_at FROM identify
  UNION ALL
  SELECT tenant, event_type, received_at FROM "group"
  UNION ALL
  SELECT tenant, event_type, received_at FROM alias
) AS events
GROUP BY 1, 2, 3
ORDER BY 3 DESC, 1, 2
