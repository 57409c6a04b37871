"""inmet_local: the `inmet` CLI, the sample-data generator and the local runtime.

Never shipped to Lambda.
"""
