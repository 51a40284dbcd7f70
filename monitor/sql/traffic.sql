-- Predictions, errors and p95 latency per time bucket for one model.
SELECT
    date_trunc($bucket, timestamp) AS bucket,
    count(*) AS predictions,
    count(*) FILTER (WHERE status = 'error') AS errors,
    quantile_cont(latency_ms, 0.95) AS latency_p95
FROM predictions
WHERE timestamp BETWEEN $start AND $end
  AND model_id = $model
  AND ($versions IS NULL OR list_contains($versions, coalesce(model_version, '')))
GROUP BY bucket
ORDER BY bucket
