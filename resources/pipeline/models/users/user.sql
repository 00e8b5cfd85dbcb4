{#- CHT users, from their `user-settings` docs in the medic database. -#}
{{
  config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    unique_key='user_id',
    indexes=[
      {'columns': ['user_id'], 'type': 'hash'},
      {'columns': ['saved_timestamp']},
    ]
  )
}}

SELECT
  document_metadata.uuid AS user_id,
  document_metadata.saved_timestamp,
  COALESCE(
    {{ nonempty_text("source_doc.doc ->> 'contact_id'") }},
    {#- facility_id is a string before CHT 4.9 and an array of place ids from 4.9 on -#}
    CASE jsonb_typeof(source_doc.doc -> 'facility_id')
      WHEN 'string' THEN {{ nonempty_text("source_doc.doc ->> 'facility_id'") }}
      WHEN 'array' THEN {{ nonempty_text("source_doc.doc -> 'facility_id' ->> 0") }}
    END
  ) AS contact_uuid,
  {{ nonempty_text("source_doc.doc ->> 'language'") }} AS language,
  {{ nonempty_text("source_doc.doc ->> 'roles'") }} AS roles
FROM {{ ref('document_metadata') }} AS document_metadata
INNER JOIN {{ source('couchdb', env_var('POSTGRES_TABLE', 'couchdb')) }} AS raw_table
  ON raw_table._id = document_metadata.uuid
{{ doc_once('raw_table') }}
WHERE document_metadata.doc_type = 'user-settings'
  AND NOT document_metadata._deleted
{% if is_incremental() %}
  AND document_metadata.saved_timestamp >= {{ incremental_watermark() }}
{% endif %}
