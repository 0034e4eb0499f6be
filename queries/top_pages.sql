-- Top pages
-- The 50 most viewed URLs (per tenant) over everything compacted, with their distinct sessions.
SELECT tenant, url, count(*) AS views, count(DISTINCT session_id) AS sessions
FROM page_view
GROUP BY 1, 2
ORDER BY views DESC, tenant, url
LIMIT 50
