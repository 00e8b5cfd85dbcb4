{#- Every live contact document: hard-coded types and configurable `type: contact` ones. -#}
{{
  config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    unique_key='uuid',
    indexes=[
      {'columns': ['uuid'], 'type': 'hash'},
      {'columns': ['saved_timestamp']},
      {'columns': ['reported']},
      {'columns': ['parent_uuid']},
      {'columns': ['contact_type']},
    ]
  )
}}

SELECT
  document_metadata.uuid,
  document_metadata.saved_timestamp,
  {{ safe_timestamp_from_reported_date("source_doc.doc -> 'reported_date'") }} AS reported,
  {{ json_id("source_doc.doc -> 'parent'") }} AS parent_uuid,
  {{ nonempty_text("source_doc.doc ->> 'name'") }} AS name,
  COALESCE({{ nonempty_text("source_doc.doc ->> 'contact_type'") }}, document_metadata.doc_type) AS contact_type,
  {{ nonempty_text("source_doc.doc ->> 'is_active'") }} AS active,
  {{ nonempty_text("source_doc.doc ->> 'notes'") }} AS notes,
  {{ nonempty_text("source_doc.doc ->> 'muted'") }} AS muted
FROM {{ ref('document_metadata') }} AS document_metadata
INNER JOIN {{ source('couchdb', env_var('POSTGRES_TABLE', 'couchdb')) }} AS raw_table
  ON raw_table._id = document_metadata.uuid
{{ doc_once('raw_table') }}
WHERE document_metadata.doc_type IN ('contact', 'clinic', 'district_hospital', 'health_center', 'person')
  AND NOT document_metadata._deleted
{% if is_incremental() %}
  AND document_metadata.saved_timestamp >= {{ incremental_watermark() }}
{% endif %}
