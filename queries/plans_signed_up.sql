-- Sign-ups per plan
-- A field of properties (JSON text): the plan and seat count of each "Signed Up" track event, summed per
-- plan; json_extract_scalar reads a scalar as text, cast it for arithmetic.
SELECT tenant, json_extract_scalar(properties, '$.plan') AS plan, count(*) AS sign_ups,
       sum(cast(json_extract_scalar(properties, '$.seats') AS bigint)) AS seats
FROM track
WHERE name = 'Signed Up'
GROUP BY 1, 2
ORDER BY 1, 2
