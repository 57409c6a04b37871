"""The client a user runs against any deployment, local or on AWS: uploads over HTTP with the
API key or SigV4 signing, and the fetch of the exported CSV from S3 or Snowflake.

May import :mod:`inmet_local.workspace` and ``inmet_pipeline``; never the emulator.
"""
