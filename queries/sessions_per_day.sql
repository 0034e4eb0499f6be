-- Sessions per day
-- Distinct sessions and people per tenant and day received, over the two types that carry a session_id
-- (page_view and button_click).
SELECT tenant, concat(year, '-', month, '-', day) AS day, count(DISTINCT session_id) AS sessions,
       count(DISTINCT coalesce(user_id, anonymous_id)) AS people
FROM (
  SELECT tenant, year, month, day, session_id, user_id, anonymous_id FROM page_view
  UNION ALL
  SELECT tenant, year, month, day, session_id, user_id, anonymous_id FROM button_click
) AS visits
GROUP BY 1, 2
ORDER BY 1, 2
