"""The Snowflake session parameters the pipeline's SQL relies on, pinned wherever it runs: on
both tasks (snowflake_sql/R__z_tasks.sql, "CREATE TASK": "<session_parameter> = <value>") and on
the export's connection (adapters/snowflake.py). An account or user default can then no longer
change a result. tests/unit/test_sql_rules.py holds the tasks to this list.

- TIMEZONE = UTC: SYSDATE() is UTC anyway, but CURRENT_TIMESTAMP() and every TIMESTAMP_LTZ
  shown as text follow TIMEZONE; the contract's times are UTC ("Parameters", TIMEZONE,
  docs.snowflake.com/en/sql-reference/parameters).
- QUOTED_IDENTIFIERS_IGNORE_CASE = FALSE: the export's header comes from double-quoted
  lower-case aliases (partitions._select_columns); with TRUE, Snowflake resolves quoted
  identifiers upper-case and the unloaded header would read STATION_ID, ... ("Parameters",
  QUOTED_IDENTIFIERS_IGNORE_CASE; "Identifier requirements",
  docs.snowflake.com/en/sql-reference/identifiers-syntax).

Dates and timestamps are read with explicit formats (TRY_TO_TIMESTAMP_NTZ(x, 'YYYY-MM-DD
HH24:MI:SS')) and written with TO_VARCHAR(x, format), so TIMESTAMP_INPUT_FORMAT and
TIMESTAMP_OUTPUT_FORMAT need no pin.
"""

from __future__ import annotations

from typing import Final

PINNED_SESSION_PARAMETERS: Final[dict[str, str | bool]] = {
    "TIMEZONE": "UTC",
    "QUOTED_IDENTIFIERS_IGNORE_CASE": False,
}
