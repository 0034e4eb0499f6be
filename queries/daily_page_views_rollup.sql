-- Page views per URL per day, from daily_counts
-- The same numbers as "Page views per URL per day" without reading the events: the daily_counts rollup
-- holds one row per tenant, day, event type and key (a page view's key is its url).
SELECT tenant, day, key AS url, events AS views, sessions, users
FROM daily_counts
WHERE event_type = 'page_view'
ORDER BY 1, 2, 3
