"""Models of Snowflake that the deploy and the conformance tests use: the rendered SQL project
(as schemachange renders it), what each statement touches, and the privilege model.

May import :mod:`inmet_local.workspace` and ``inmet_pipeline`` only; it runs nothing locally.
"""
