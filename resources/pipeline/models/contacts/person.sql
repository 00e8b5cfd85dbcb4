{#- Contacts whose type is a person type. -#}
{{
  config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    unique_key='uuid',
    indexes=[
      {'columns': ['uuid'], 'type': 'hash'},
      {'columns': ['saved_timestamp']},
    ]
  )
}}

SELECT
  contact.uuid,
  contact.saved_timestamp,
  {{ nonempty_text("source_doc.doc ->> 'sex'") }} AS sex,
  {{ nonempty_text("source_doc.doc ->> 'patient_id'") }} AS patient_id,
  {{ nonempty_text("source_doc.doc ->> 'phone'") }} AS phone,
  COALESCE(
    {{ nonempty_text("source_doc.doc ->> 'alternative_phone'") }},
    {{ nonempty_text("source_doc.doc ->> 'phone_alternate'") }}
  ) AS phone2
FROM {{ ref('contact') }} AS contact
INNER JOIN {{ ref('contact_type') }} AS contact_type ON contact_type.id = contact.contact_type
INNER JOIN {{ source('couchdb', env_var('POSTGRES_TABLE', 'couchdb')) }} AS raw_table
  ON raw_table._id = contact.uuid
{{ doc_once('raw_table') }}
WHERE contact_type.person
{% if is_incremental() %}
  AND contact.saved_timestamp >= {{ incremental_watermark() }}
{% endif %}
