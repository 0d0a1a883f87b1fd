"""OpenTelemetry for the platform: the operator's checklist as metrics, traces across Pulsar, correlated logs."""
