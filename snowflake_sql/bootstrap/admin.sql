-- One-time bootstrap, run by an administrator (ACCOUNTADMIN, or SECURITYADMIN + SYSADMIN)
-- before the first `inmet snowflake deploy`. Print it rendered with `inmet snowflake bootstrap`.
--
-- Least privilege:
--   {{ pipeline_role }}  runs schemachange and owns every pipeline object (database, stages,
--                        tables, pipe, stream, task, views); it may create integrations and run
--                        serverless tasks, nothing else on the account.
--   {{ export_role }}    reads the CLEAN export view and writes to the export stage, nothing else.
--   {{ export_user }}    TYPE = SERVICE: no password, key-pair authentication only; used by
--                        ExportFunction with the private key kept in AWS Secrets Manager.
-- First, the account's region. The pipeline needs an account hosted on AWS: outbound
-- notification integrations to Amazon SNS are "limited to Snowflake accounts hosted on AWS"
-- (CREATE NOTIFICATION INTEGRATION (outbound to Amazon SNS),
-- docs.snowflake.com/en/sql-reference/sql/create-notification-integration-queue-outbound-aws),
-- and in the bucket's own region: the pipe's S3 event queue is in the account's region, and S3
-- sends event notifications only to a queue in the bucket's region ("Automating Snowpipe for
-- Amazon S3", docs.snowflake.com/en/user-guide/data-load-snowpipe-auto-s3; "Amazon S3 Event
-- Notifications", docs.aws.amazon.com/AmazonS3/latest/userguide/EventNotifications.html). The
-- bucket's region is the stack's, read from the load topic's ARN. CURRENT_REGION() returns
-- AWS_US_EAST_1, or PUBLIC.AWS_US_EAST_1 in an organization with several region groups
-- (docs.snowflake.com/en/sql-reference/functions/current_region). Nothing is created when the
-- check fails.
{%- set aws_region = notification_topic_arn.split(':')[3] %}
{%- set expected_region = 'AWS_' ~ aws_region.upper().replace('-', '_') %}
EXECUTE IMMEDIATE $$
DECLARE
  not_on_aws EXCEPTION (-20001, 'This Snowflake account is not hosted on AWS: the pipeline needs an account on AWS in the bucket''s region ({{ aws_region }}), because Snowflake sends notifications to Amazon SNS only from accounts hosted on AWS. Create or use an account in AWS {{ aws_region }}.');
  wrong_region EXCEPTION (-20002, 'This Snowflake account is not in the bucket''s AWS region ({{ aws_region }}): the pipe''s S3 event queue must be in the bucket''s region. Use an account in AWS {{ aws_region }}, or deploy the stack in the account''s region.');
BEGIN
  IF (NOT STARTSWITH(SPLIT_PART(CURRENT_REGION(), '.', -1), 'AWS_')) THEN
    RAISE not_on_aws;
  END IF;
  IF (SPLIT_PART(CURRENT_REGION(), '.', -1) <> '{{ expected_region }}') THEN
    RAISE wrong_region;
  END IF;
  RETURN 'Snowflake account region ' || CURRENT_REGION() || ': the bucket''s region, as needed';
END;
$$;

CREATE ROLE IF NOT EXISTS {{ pipeline_role }};
CREATE ROLE IF NOT EXISTS {{ export_role }};
GRANT ROLE {{ export_role }} TO ROLE {{ pipeline_role }};
GRANT ROLE {{ pipeline_role }} TO ROLE SYSADMIN;

GRANT CREATE DATABASE ON ACCOUNT TO ROLE {{ pipeline_role }};
GRANT CREATE INTEGRATION ON ACCOUNT TO ROLE {{ pipeline_role }};
GRANT EXECUTE TASK ON ACCOUNT TO ROLE {{ pipeline_role }};
GRANT EXECUTE MANAGED TASK ON ACCOUNT TO ROLE {{ pipeline_role }};
GRANT USAGE ON WAREHOUSE {{ warehouse }} TO ROLE {{ pipeline_role }};
GRANT USAGE ON WAREHOUSE {{ warehouse }} TO ROLE {{ export_role }};

-- schemachange's change history (schemachange-config.yml, change-history-table): schemachange
-- creates the SCHEMACHANGE schema and the CHANGE_HISTORY table itself when they are missing,
-- but never the database. The pipeline role owns it, so it can create both.
CREATE DATABASE IF NOT EXISTS {{ admin_database }}
  COMMENT = 'schemachange change history of the INMET pipeline';
GRANT OWNERSHIP ON DATABASE {{ admin_database }} TO ROLE {{ pipeline_role }} COPY CURRENT GRANTS;

CREATE USER IF NOT EXISTS {{ export_user }}
  TYPE = SERVICE
  DEFAULT_ROLE = {{ export_role }}
  DEFAULT_WAREHOUSE = {{ warehouse }}
  RSA_PUBLIC_KEY = '{{ export_public_key }}'
  COMMENT = 'ExportFunction (AWS Lambda): key-pair auth, private key in Secrets Manager';
GRANT ROLE {{ export_role }} TO USER {{ export_user }};
