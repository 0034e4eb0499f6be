-- Sign-up funnel
-- Of the people (user_id, else anonymous_id) who viewed /pricing, how many then clicked the sign-up
-- button, and how many of those then sent the track event "Signed Up"; each step after the previous one
-- by the events' own timestamps.
WITH viewed AS (
  SELECT tenant, coalesce(user_id, anonymous_id) AS person, min("timestamp") AS first_at
  FROM page_view
  WHERE url = '/pricing'
  GROUP BY 1, 2
), clicked AS (
  SELECT v.tenant, v.person, min(c."timestamp") AS first_at
  FROM viewed AS v
  JOIN button_click AS c
    ON c.tenant = v.tenant AND coalesce(c.user_id, c.anonymous_id) = v.person AND c."timestamp" >= v.first_at
  WHERE c.button_id = 'sign-up'
  GROUP BY 1, 2
), signed_up AS (
  SELECT DISTINCT k.tenant, k.person
  FROM clicked AS k
  JOIN track AS t
    ON t.tenant = k.tenant AND coalesce(t.user_id, t.anonymous_id) = k.person AND t."timestamp" >= k.first_at
  WHERE t.name = 'Signed Up'
)
SELECT v.tenant, count(DISTINCT v.person) AS viewed_pricing, count(DISTINCT k.person) AS clicked_sign_up,
       count(DISTINCT s.person) AS signed_up
FROM viewed AS v
LEFT JOIN clicked AS k ON k.tenant = v.tenant AND k.person = v.person
LEFT JOIN signed_up AS s ON s.tenant = v.tenant AND s.person = v.person
GROUP BY 1
ORDER BY 1
