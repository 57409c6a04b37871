-- Storage integration and stages (raw/ read by the pipe, processed/ written by the export), and
-- the two outbound SNS notification integrations (load notifications and errors).
-- After this script: DESC INTEGRATION each one and copy STORAGE_AWS_IAM_USER_ARN /
-- STORAGE_AWS_EXTERNAL_ID and SF_AWS_IAM_USER_ARN / SF_AWS_EXTERNAL_ID into the SAM parameters
-- (see snowflake_sql/README.md).
CREATE STORAGE INTEGRATION IF NOT EXISTS {{ storage_integration }}
  TYPE = EXTERNAL_STAGE
  STORAGE_PROVIDER = 'S3'
  ENABLED = TRUE
  STORAGE_AWS_ROLE_ARN = '{{ storage_role_arn }}'
  STORAGE_ALLOWED_LOCATIONS = ('s3://{{ bucket }}/{{ raw_prefix }}', 's3://{{ bucket }}/{{ processed_prefix }}');

CREATE NOTIFICATION INTEGRATION IF NOT EXISTS {{ notification_integration }}
  TYPE = QUEUE
  DIRECTION = OUTBOUND
  NOTIFICATION_PROVIDER = AWS_SNS
  ENABLED = TRUE
  AWS_SNS_TOPIC_ARN = '{{ notification_topic_arn }}'
  AWS_SNS_ROLE_ARN = '{{ notification_role_arn }}';

CREATE NOTIFICATION INTEGRATION IF NOT EXISTS {{ error_integration }}
  TYPE = QUEUE
  DIRECTION = OUTBOUND
  NOTIFICATION_PROVIDER = AWS_SNS
  ENABLED = TRUE
  AWS_SNS_TOPIC_ARN = '{{ error_topic_arn }}'
  AWS_SNS_ROLE_ARN = '{{ notification_role_arn }}';


CREATE STAGE IF NOT EXISTS {{ database }}.{{ raw_schema }}.RAW_STAGE
  URL = 's3://{{ bucket }}/{{ raw_prefix }}'
  STORAGE_INTEGRATION = {{ storage_integration }}
  COMMENT = 'raw/: normalised UTF-8 INMET files written by the upload API; read by the pipe';

CREATE STAGE IF NOT EXISTS {{ database }}.{{ clean_schema }}.EXPORT_STAGE
  URL = 's3://{{ bucket }}/{{ processed_prefix }}'
  STORAGE_INTEGRATION = {{ storage_integration }}
  COMMENT = 'processed/inmet_clean/: one CSV per station-year, written by the export';
GRANT USAGE ON STAGE {{ database }}.{{ clean_schema }}.EXPORT_STAGE TO ROLE {{ export_role }};
-- REMOVE on an external stage also needs USAGE on the stage's storage integration (REMOVE,
-- usage notes: docs.snowflake.com/en/sql-reference/sql/remove); the export removes a partition
-- that a newer all-missing upload emptied.
GRANT USAGE ON INTEGRATION {{ storage_integration }} TO ROLE {{ export_role }};
