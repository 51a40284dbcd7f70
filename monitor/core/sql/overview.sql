-- Traffic, errors and latency per model in a window (both ends inclusive).
-- $versions: NULL for all versions, else a list of versions ('' = unversioned).
SELECT
    model_id,
    count(*) AS predictions,
    count(*) FILTER (WHERE status = 'error') AS errors,
    quantile_cont(latency_ms, [0.5, 0.95, 0.99]) AS latency,
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen
FROM predictions
WHERE timestamp BETWEEN $start AND $end
  AND ($model IS NULL OR model_id = $model)
  AND ($versions IS NULL OR list_contains($versions, coalesce(model_version, '')))
GROUP BY model_id
ORDER BY model_id
