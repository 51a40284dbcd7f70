"""Findings layer: metric results turned into verdicts (status, severity) that every view
reads instead of deciding again."""
