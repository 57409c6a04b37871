-- The daily partitions' stage: processed/inmet_daily/, beside the hourly partitions
-- (docs/contracts.md §2). The storage integration is allowed the new prefix too: a stage's URL
-- must lie inside its integration's STORAGE_ALLOWED_LOCATIONS, and SET replaces the whole list
-- ("ALTER STORAGE INTEGRATION", docs.snowflake.com/en/sql-reference/sql/alter-storage-integration).
ALTER STORAGE INTEGRATION {{ storage_integration }} SET
  STORAGE_ALLOWED_LOCATIONS = ('s3://{{ bucket }}/{{ raw_prefix }}', 's3://{{ bucket }}/{{ processed_prefix }}', 's3://{{ bucket }}/{{ daily_prefix }}');

CREATE STAGE IF NOT EXISTS {{ database }}.{{ clean_schema }}.DAILY_EXPORT_STAGE
  URL = 's3://{{ bucket }}/{{ daily_prefix }}'
  STORAGE_INTEGRATION = {{ storage_integration }}
  COMMENT = 'processed/inmet_daily/: one CSV of daily values per station and year, written by the export';
GRANT USAGE ON STAGE {{ database }}.{{ clean_schema }}.DAILY_EXPORT_STAGE TO ROLE {{ export_role }};
GRANT SELECT ON TABLE {{ database }}.{{ clean_schema }}.DAILY TO ROLE {{ export_role }};
