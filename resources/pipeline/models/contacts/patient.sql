{#- Persons that carry a patient_id (shortcode). -#}
{{
  config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    unique_key='uuid',
    indexes=[
      {'columns': ['uuid'], 'type': 'hash'},
      {'columns': ['saved_timestamp'], 'type': 'btree'},
      {'columns': ['patient_id'], 'type': 'hash'},
    ]
  )
}}

SELECT
  person.uuid,
  person.saved_timestamp,
  person.patient_id
FROM {{ ref('person') }} AS person
WHERE person.patient_id IS NOT NULL
{% if is_incremental() %}
  AND person.saved_timestamp >= {{ incremental_watermark() }}
{% endif %}
