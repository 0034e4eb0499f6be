-- Clicks per button
-- Clicks, distinct sessions and distinct people (user_id, else anonymous_id) per button.
SELECT tenant, button_id, count(*) AS clicks, count(DISTINCT session_id) AS sessions,
       count(DISTINCT coalesce(user_id, anonymous_id)) AS people
FROM button_click
GROUP BY 1, 2
ORDER BY clicks DESC, tenant, button_id
