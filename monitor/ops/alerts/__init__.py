"""Alerts: rules from config, evaluation (pending, firing, resolved, nodata), the alert
table, human actions (acknowledge, silence) and formatting."""
