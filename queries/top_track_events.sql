-- Top track events
-- track events by name, with the library that sent them (context.library.name: Segment's libraries and
-- our SDKs set it; empty when the sender did not), whichever route they came through (/v1/events,
-- /v1/track, /v1/batch).
SELECT tenant, name, json_extract_scalar(context, '$.library.name') AS library, count(*) AS events,
       count(DISTINCT coalesce(user_id, anonymous_id)) AS people
FROM track
GROUP BY 1, 2, 3
ORDER BY events DESC, tenant, name, library
LIMIT 50
