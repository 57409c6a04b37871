"""The sample generator: realistic INMET station files of both layouts, with their quirks
(encodings, ``-9999``, decimal commas, trailing ``;``, metadata spellings), for the demo and tests.

May import :mod:`inmet_local.workspace` and ``inmet_pipeline`` only.
"""
