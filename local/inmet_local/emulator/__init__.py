"""The local emulator of the cloud: moto for S3/SQS/SNS/DynamoDB, fakesnow for Snowflake, and the
runtime for what neither can do (the pipe, the stream and task, the notification, the unload).

May import :mod:`inmet_local.snowflake`, :mod:`inmet_local.synth`, :mod:`inmet_local.workspace`
and ``inmet_pipeline``; never the CLI, the client or ``ops``. Keep this file free of imports: a
built ExportFunction run against the local stack loads ``emulator.local_adapter`` alone.
"""
