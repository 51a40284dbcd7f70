"""Operations layer: alerts (rules, evaluation, acknowledge, silence), notifications, the
model registry and rollback marks, uploaded datasets and their ingestion."""
