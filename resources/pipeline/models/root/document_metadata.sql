{#-
  One row per raw document, deleted ones included while they are the newest: a delete
  arrives as a row with _deleted = true, and delete+insert on uuid first removes the live
  row (its children go with it through ON DELETE CASCADE), then inserts the tombstone,
  which every child model skips. The tombstone keeps max(saved_timestamp) moving, so a run
  whose newest raw rows are all deletes still advances the watermark (CHT Pipeline deletes
  them at once and re-reads them forever). The post-hook then drops every tombstone older
  than the newest saved_timestamp, so the table otherwise holds live documents only.
-#}
{{
  config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    unique_key='uuid',
    post_hook="DELETE FROM {{ this }} WHERE _deleted AND saved_timestamp < (SELECT MAX(saved_timestamp) FROM {{ this }})",
    indexes=[
      {'columns': ['uuid'], 'type': 'hash'},
      {'columns': ['saved_timestamp']},
      {'columns': ['doc_type']},
      {'columns': ['_deleted']},
      {'columns': ['instance']},
      {'columns': ['dbname']},
    ]
  )
}}

WITH raw AS (
  SELECT
    raw_table._id AS uuid,
    raw_table.saved_timestamp,
    COALESCE(raw_table._deleted, FALSE) AS _deleted,
    {{ nonempty_text("raw_table.doc ->> 'type'") }} AS doc_type,
    {{ nonempty_text("split_part(raw_table.source, '/', 1)") }} AS instance,
    {{ nonempty_text("split_part(raw_table.source, '/', 2)") }} AS dbname
  FROM {{ source('couchdb', env_var('POSTGRES_TABLE', 'couchdb')) }} AS raw_table
  {% if is_incremental() %}
  WHERE raw_table.saved_timestamp > {{ incremental_watermark() }}
  {% endif %}
)
{% if var('batch_size', none) is not none %}
{#- The batch ends at the saved_timestamp of the batch_size-th new row and takes every row
    up to and including it, so rows written in one sync batch stay together. #}
, batch_end AS (
  SELECT MAX(saved_timestamp) AS saved_timestamp
  FROM (SELECT saved_timestamp FROM raw ORDER BY saved_timestamp LIMIT {{ var('batch_size') }}) AS first_rows
)
SELECT raw.* FROM raw WHERE raw.saved_timestamp <= (SELECT saved_timestamp FROM batch_end)
{% else %}
SELECT raw.* FROM raw
{% endif %}
