"""Model performance: classification and regression metrics with intervals, baselines,
calibration and scores, segments, and label-free estimation."""
