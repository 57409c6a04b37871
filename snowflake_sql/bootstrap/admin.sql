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
