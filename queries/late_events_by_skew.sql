-- Late events by skew
-- How long after it happened each event reached the collector: received_at - timestamp (milliseconds,
-- the client's clock corrected by sent_at), in four buckets, per tenant and event type.
SELECT tenant, event_type,
       CASE
         WHEN received_at - "timestamp" < 60000 THEN '1: under a minute'
         WHEN received_at - "timestamp" < 3600000 THEN '2: under an hour'
         WHEN received_at - "timestamp" < 86400000 THEN '3: under a day'
         ELSE '4: a day or more'
       END AS lateness,
       count(*) AS events
FROM (
  SELECT tenant, event_type, received_at, "timestamp" FROM page_view
  UNION ALL
  SELECT tenant, event_type, received_at, "timestamp" FROM button_click
  UNION ALL
  SELECT tenant, event_type, received_at, "timestamp" FROM track
) AS events
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
