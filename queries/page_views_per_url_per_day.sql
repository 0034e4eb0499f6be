-- Page views per URL per day
-- Views and distinct sessions of each URL, per tenant and per day received (the partition day, the day
-- daily_counts counts); add tenant = '...' and year/month/day conditions to read only those partitions.
SELECT tenant, concat(year, '-', month, '-', day) AS day, url,
       count(*) AS views, count(DISTINCT session_id) AS sessions
FROM page_view
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
