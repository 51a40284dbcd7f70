-- Traffic, errors and latency per model version in a window.
SELECT
    coalesce(model_version, '') AS model_version,
    count(*) AS predictions,
    count(*) FILTER (WHERE status = 'error') AS errors,
    quantile_cont(latency_ms, [0.5, 0.95, 0.99]) AS latency,
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen
FROM predictions
WHERE timestamp BETWEEN $start AND $end
  AND model_id = $model
  AND ($versions IS NULL OR list_contains($versions, coalesce(model_version, '')))
GROUP BY ALL
ORDER BY first_seen, model_version
