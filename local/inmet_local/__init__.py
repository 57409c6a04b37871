"""inmet_local: the `inmet` CLI, the sample-data generator and the local runtime (never shipped to Lambda)."""
