-- Predictions per minute (only minutes that have any), for finding gaps in traffic.
SELECT epoch_us(timestamp) // 60000000 AS minute, count(*) AS n
FROM predictions
WHERE timestamp BETWEEN $start AND $end
  AND model_id = $model
  AND ($versions IS NULL OR list_contains($versions, coalesce(model_version, '')))
GROUP BY 1
ORDER BY 1
