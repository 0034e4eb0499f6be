-- Retention by week
-- People (user_id, else anonymous_id) by the week they were first seen (weeks start on Monday, UTC, by
-- the events' timestamps), and how many of them were active 0, 1, 2... weeks later (page views, clicks
-- and track events).
WITH activity AS (
  SELECT tenant, coalesce(user_id, anonymous_id) AS person, "timestamp" FROM page_view
  UNION ALL
  SELECT tenant, coalesce(user_id, anonymous_id), "timestamp" FROM button_click
  UNION ALL
  SELECT tenant, coalesce(user_id, anonymous_id), "timestamp" FROM track
), weeks AS (
  SELECT DISTINCT tenant, person, date_trunc('week', from_unixtime("timestamp" / 1000)) AS week
  FROM activity
  WHERE person IS NOT NULL
), cohorts AS (
  SELECT tenant, person, min(week) AS cohort FROM weeks GROUP BY 1, 2
)
SELECT w.tenant, cast(c.cohort AS date) AS first_week, date_diff('week', c.cohort, w.week) AS weeks_later,
       count(*) AS people
FROM weeks AS w
JOIN cohorts AS c ON c.tenant = w.tenant AND c.person = w.person
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
