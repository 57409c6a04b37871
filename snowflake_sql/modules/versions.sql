{#-
  The order of versions, stated once for all of snowflake_sql/ (a Jinja module like
  measures.sql; schemachange never runs it on its own): which of two files that hold the same
  station-hour (rule 7) or the same station (rule 1) was sent last.

  The upload service names each raw/ object `<sequence>-<upload_id>.csv`, where the sequence is
  the UTC time it accepted the file, to the microsecond, as fixed-width text that sorts as the
  time does (inmet_pipeline.upload_objects: SEQUENCE_FORMAT, UploadSequence). The pipe keeps the
  object's name from METADATA$FILENAME ("Query metadata for staged files",
  https://docs.snowflake.com/en/user-guide/querying-metadata: the name "includes the full path
  to the data file"): the sequence is read from its last path segment, so whatever path comes
  before it (with or without the stage's prefix) changes nothing. S3's LastModified (one-second
  resolution) cannot order two versions sent within the same second; the sequence can.

  A name without a sequence (written before the service assigned one) sorts before every name
  with one; among such names LastModified, then the name, decide as they did.
  tests/unit/test_versions.py holds this to upload_objects.RAW_NAME_RE.
-#}

{#- The upload sequence in a raw/ file name, '' when the name has none. -#}
{%- macro upload_sequence(file_name) -%}
IFF(SPLIT_PART({{ file_name }}, '/', -1) RLIKE '[0-9]{8}T[0-9]{12}Z-[0-9a-f]{64}[.]csv', LEFT(SPLIT_PART({{ file_name }}, '/', -1), 22), '')
{%- endmacro -%}

{#- ORDER BY items, newest version first, for rows with columns file_name and
    file_last_modified (qualified by `alias`, e.g. 'f.', or unqualified with ''); `sequence`
    names a column that already holds upload_sequence(file_name) (computed once a file rather
    than once a line). -#}
{%- macro newest_first(alias='', sequence=none) -%}
{{ sequence if sequence else upload_sequence(alias ~ 'file_name') }} DESC, {{ alias }}file_last_modified DESC, {{ alias }}file_name DESC
{%- endmacro -%}

{#- A condition: the file (a_name, a_modified) is a later version than (b_name, b_modified);
    `or_same` makes it "later or the same file". -#}
{%- macro is_later(a_name, a_modified, b_name, b_modified, or_same=false) -%}
(
    {{ upload_sequence(a_name) }} > {{ upload_sequence(b_name) }}
    OR ({{ upload_sequence(a_name) }} = {{ upload_sequence(b_name) }} AND (
      {{ a_modified }} > {{ b_modified }}
      OR ({{ a_modified }} = {{ b_modified }} AND {{ a_name }} {{ '>=' if or_same else '>' }} {{ b_name }})
    ))
  )
{%- endmacro -%}
