"""inmet_pipeline: the domain package of the INMET pipeline.

Reading and validating INMET station files, settings, models, use cases and adapters. It is
shipped to Lambda as the CommonLayer and installed editable for tests and tools. Nothing here
creates an AWS or Snowflake client at import time.
"""

__version__ = "0.1.0"
