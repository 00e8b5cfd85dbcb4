{#- Contacts whose type is a place type (anything not configured as a person). -#}
{{
  config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    unique_key='uuid',
    indexes=[
      {'columns': ['uuid'], 'type': 'hash'},
      {'columns': ['saved_timestamp']},
      {'columns': ['place_id']},
    ]
  )
}}

SELECT
  contact.uuid,
  contact.saved_timestamp,
  {{ nonempty_text("source_doc.doc ->> 'place_id'") }} AS place_id,
  COALESCE(
    {{ nonempty_text("source_doc.doc ->> 'contact_id'") }},
    {{ json_id("source_doc.doc -> 'contact'") }}
  ) AS contact_id
FROM {{ ref('contact') }} AS contact
INNER JOIN {{ ref('contact_type') }} AS contact_type ON contact_type.id = contact.contact_type
INNER JOIN {{ source('couchdb', env_var('POSTGRES_TABLE', 'couchdb')) }} AS raw_table
  ON raw_table._id = contact.uuid
{{ doc_once('raw_table') }}
WHERE NOT contact_type.person
{% if is_incremental() %}
  AND contact.saved_timestamp >= {{ incremental_watermark() }}
{% endif %}
