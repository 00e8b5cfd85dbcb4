{#- Daily (older apps: monthly) telemetry aggregates per user and device. -#}
{{
  config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    unique_key='uuid',
    indexes=[
      {'columns': ['uuid'], 'type': 'hash'},
      {'columns': ['saved_timestamp']},
      {'columns': ['period_start']},
      {'columns': ['user_name']},
      {'columns': ['app_version']},
    ]
  )
}}

SELECT
  document_metadata.uuid,
  document_metadata.saved_timestamp,
  {{ telemetry_period_start('source_doc.doc') }} AS period_start,
  {{ nonempty_text("source_doc.doc #>> '{metadata,user}'") }} AS user_name,
  {{ nonempty_text("source_doc.doc #>> '{metadata,versions,app}'") }} AS app_version,
  {{ nonempty_text("source_doc.doc #>> '{metrics,boot_time,min}'") }} AS boot_time_min,
  {{ nonempty_text("source_doc.doc #>> '{metrics,boot_time,max}'") }} AS boot_time_max,
  {{ nonempty_text("source_doc.doc #>> '{metrics,boot_time,count}'") }} AS boot_time_count,
  {{ nonempty_text("source_doc.doc #>> '{dbInfo,doc_count}'") }} AS doc_count_on_local_db
FROM {{ ref('document_metadata') }} AS document_metadata
INNER JOIN {{ source('couchdb', env_var('POSTGRES_TABLE', 'couchdb')) }} AS raw_table
  ON raw_table._id = document_metadata.uuid
{{ doc_once('raw_table') }}
WHERE document_metadata.doc_type = 'telemetry'
  AND NOT document_metadata._deleted
{% if is_incremental() %}
  AND document_metadata.saved_timestamp >= {{ incremental_watermark() }}
{% endif %}
