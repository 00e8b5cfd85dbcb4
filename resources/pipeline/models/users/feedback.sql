{#- Feedback docs (automatic error reports and user feedback) from medic-users-meta. -#}
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
    ]
  )
}}

SELECT
  document_metadata.uuid,
  document_metadata.saved_timestamp,
  {{ nonempty_text("source_doc.doc #>> '{meta,source}'") }} AS source,
  {{ nonempty_text("source_doc.doc #>> '{meta,url}'") }} AS url,
  {{ nonempty_text("source_doc.doc #>> '{meta,user,name}'") }} AS user_name,
  {{ nonempty_text("source_doc.doc #>> '{meta,time}'") }} AS period_start,
  COALESCE(
    {{ nonempty_text("source_doc.doc #>> '{info,cause}'") }},
    {{ nonempty_text("source_doc.doc ->> 'info'") }}
  ) AS cause,
  {{ nonempty_text("source_doc.doc #>> '{info,message}'") }} AS message
FROM {{ ref('document_metadata') }} AS document_metadata
INNER JOIN {{ source('couchdb', env_var('POSTGRES_TABLE', 'couchdb')) }} AS raw_table
  ON raw_table._id = document_metadata.uuid
{{ doc_once('raw_table') }}
WHERE document_metadata.doc_type = 'feedback'
  AND NOT document_metadata._deleted
{% if is_incremental() %}
  AND document_metadata.saved_timestamp >= {{ incremental_watermark() }}
{% endif %}
