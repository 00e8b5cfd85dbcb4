{#- The device described by each telemetry doc. -#}
{{
  config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    unique_key='uuid',
    indexes=[
      {'columns': ['uuid'], 'type': 'hash'},
      {'columns': ['saved_timestamp']},
      {'columns': ['period_start']},
      {'columns': ['android_version']},
    ]
  )
}}

SELECT
  telemetry.uuid,
  telemetry.saved_timestamp,
  telemetry.period_start,
  {{ nonempty_text("source_doc.doc #>> '{device,deviceInfo,hardware,manufacturer}'") }} AS device_manufacturer,
  {{ nonempty_text("source_doc.doc #>> '{device,deviceInfo,hardware,model}'") }} AS device_model,
  {{ nonempty_text("source_doc.doc #>> '{device,userAgent}'") }} AS user_agent,
  {{ nonempty_text("source_doc.doc #>> '{device,deviceInfo,app,version}'") }} AS cht_android_version,
  {{ nonempty_text("source_doc.doc #>> '{device,deviceInfo,software,androidVersion}'") }} AS android_version,
  {{ nonempty_text("source_doc.doc #>> '{device,deviceInfo,storage,free}'") }} AS storage_free,
  {{ nonempty_text("source_doc.doc #>> '{device,deviceInfo,storage,total}'") }} AS storage_total,
  {{ nonempty_text("source_doc.doc #>> '{device,deviceInfo,network,upSpeed}'") }} AS network_up_speed,
  {{ nonempty_text("source_doc.doc #>> '{device,deviceInfo,network,downSpeed}'") }} AS network_down_speed
FROM {{ ref('telemetry') }} AS telemetry
INNER JOIN {{ source('couchdb', env_var('POSTGRES_TABLE', 'couchdb')) }} AS raw_table
  ON raw_table._id = telemetry.uuid
{{ doc_once('raw_table') }}
{% if is_incremental() %}
WHERE telemetry.saved_timestamp >= {{ incremental_watermark() }}
{% endif %}
