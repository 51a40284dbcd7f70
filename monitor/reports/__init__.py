"""Reports layer: the executive summary and the JSON/CSV exports of drift, quality and
fairness results."""
