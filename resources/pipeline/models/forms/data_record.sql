{#- Live reports and messages (type data_record), with the submitter's lineage at the time. -#}
{{
  config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    unique_key='uuid',
    indexes=[
      {'columns': ['uuid'], 'type': 'hash'},
      {'columns': ['saved_timestamp']},
      {'columns': ['reported']},
      {'columns': ['from_phone']},
      {'columns': ['form']},
      {'columns': ['patient_id']},
      {'columns': ['contact_uuid']},
      {'columns': ['parent_uuid']},
      {'columns': ['grandparent_uuid']},
    ]
  )
}}

SELECT
  document_metadata.uuid,
  document_metadata.saved_timestamp,
  {{ safe_timestamp_from_reported_date("source_doc.doc -> 'reported_date'") }} AS reported,
  {{ nonempty_text("source_doc.doc ->> 'form'") }} AS form,
  {{ nonempty_text("source_doc.doc ->> 'from'") }} AS from_phone,
  COALESCE(
    {{ nonempty_text("source_doc.doc ->> 'patient_id'") }},
    {{ nonempty_text("source_doc.doc #>> '{fields,patient_id}'") }},
    {{ nonempty_text("source_doc.doc #>> '{fields,patient_uuid}'") }}
  ) AS patient_id,
  COALESCE(
    {{ nonempty_text("source_doc.doc ->> 'place_id'") }},
    {{ nonempty_text("source_doc.doc #>> '{fields,place_id}'") }}
  ) AS place_id,
  {{ json_id("source_doc.doc -> 'contact'") }} AS contact_uuid,
  {{ json_id("source_doc.doc #> '{contact,parent}'") }} AS parent_uuid,
  {{ json_id("source_doc.doc #> '{contact,parent,parent}'") }} AS grandparent_uuid
FROM {{ ref('document_metadata') }} AS document_metadata
INNER JOIN {{ source('couchdb', env_var('POSTGRES_TABLE', 'couchdb')) }} AS raw_table
  ON raw_table._id = document_metadata.uuid
{{ doc_once('raw_table') }}
WHERE document_metadata.doc_type = 'data_record'
  AND NOT document_metadata._deleted
{% if is_incremental() %}
  AND document_metadata.saved_timestamp >= {{ incremental_watermark() }}
{% endif %}
