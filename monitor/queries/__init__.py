"""Queries layer: the aggregate SQL the metrics need, run over the log store. With
`monitor.core`, the only place that builds SQL."""
