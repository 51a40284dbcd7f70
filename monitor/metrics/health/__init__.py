"""Service health: latency, throughput, errors, traffic gaps and host resources."""
