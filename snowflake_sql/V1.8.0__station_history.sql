-- The station history (docs/contracts.md §3 rule 1): each station-year's attributes as the
-- version of that station-year sent last states them in its metadata lines. CLEAN's rows take
-- the attributes of their own year (the export view INMET_CLEAN), so an upload of one year
-- never relabels another year's rows; CLEAN.STATION_EVENTS (R__views.sql) lists what changed
-- between consecutive years. STATIONS keeps the latest attributes of each station.
CREATE TABLE IF NOT EXISTS {{ database }}.{{ clean_schema }}.STATION_YEARS (
  station_id VARCHAR(4) NOT NULL COMMENT 'WMO code, e.g. A001',
  year NUMBER(4,0) NOT NULL,
  station_name VARCHAR NOT NULL,
  region VARCHAR(2) NOT NULL COMMENT 'N, NE, CO, SE or S',
  state VARCHAR(2) NOT NULL COMMENT 'UF',
  latitude NUMBER(10,8) NOT NULL COMMENT 'decimal degrees',
  longitude NUMBER(11,8) NOT NULL COMMENT 'decimal degrees',
  altitude_m NUMBER(7,2) NOT NULL COMMENT 'metres',
  founded_text VARCHAR COMMENT 'DATA DE FUNDACAO as written',
  source_file VARCHAR NOT NULL COMMENT 'the version of this station-year sent last',
  source_modified TIMESTAMP_NTZ NOT NULL COMMENT 'METADATA$FILE_LAST_MODIFIED of that file',
  updated_at TIMESTAMP_NTZ NOT NULL,
  CONSTRAINT station_years_pk PRIMARY KEY (station_id, year)
)
COMMENT = 'One row per station and year: the attributes the file of that year states';

-- Accounts with data from before this script: each station-year already in CLEAN keeps the
-- attributes it was exported with (its station's row in STATIONS).
INSERT INTO {{ database }}.{{ clean_schema }}.STATION_YEARS (
  station_id, year, station_name, region, state, latitude, longitude, altitude_m, founded_text,
  source_file, source_modified, updated_at
)
SELECT
  s.station_id, y.year, s.station_name, s.region, s.state, s.latitude, s.longitude,
  s.altitude_m, s.founded_text, s.source_file, s.source_modified, SYSDATE()
FROM {{ database }}.{{ clean_schema }}.STATIONS s
JOIN (
  SELECT DISTINCT station_id, YEAR(observed_at) AS year
  FROM {{ database }}.{{ clean_schema }}.OBSERVATIONS
) y ON y.station_id = s.station_id
WHERE NOT EXISTS (
  SELECT 1 FROM {{ database }}.{{ clean_schema }}.STATION_YEARS h
  WHERE h.station_id = y.station_id AND h.year = y.year
);
