"""Operations on deployed artefacts: the Lambda builds' hashed locks (``make lock``), the live
test in a throw-away AWS stack, the redrive of a dead-letter queue, an upload issue's one line.

May import :mod:`inmet_local.workspace`, :mod:`inmet_local.snowflake` and ``inmet_pipeline``.
"""
