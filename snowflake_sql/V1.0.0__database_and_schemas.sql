-- The database and its two schemas: RAW (every line of every file, as loaded) and CLEAN
-- (typed, validated observations and the export view). Run as {{ pipeline_role }}, which then
-- owns them (see bootstrap/admin.sql).
CREATE DATABASE IF NOT EXISTS {{ database }};
CREATE SCHEMA IF NOT EXISTS {{ database }}.{{ raw_schema }};
CREATE SCHEMA IF NOT EXISTS {{ database }}.{{ clean_schema }};

GRANT USAGE ON DATABASE {{ database }} TO ROLE {{ export_role }};
GRANT USAGE ON SCHEMA {{ database }}.{{ clean_schema }} TO ROLE {{ export_role }};
