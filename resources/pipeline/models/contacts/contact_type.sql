{#-
  Contact types: those configured in the `settings` doc (app_settings.contact_types) plus any
  seen on a contact. Recomputed in full on every run (it is tiny); `person` decides whether
  a contact lands in `person` or `place`.
-#}
{{
  config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    unique_key='id'
  )
}}

WITH configured AS (
  SELECT DISTINCT ON (element ->> 'id')
    element ->> 'id' AS id,
    element ->> 'person' AS person_text
  FROM {{ source('couchdb', env_var('POSTGRES_TABLE', 'couchdb')) }} AS raw_table
  CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(raw_table.doc #> '{settings,contact_types}') = 'array'
      THEN raw_table.doc #> '{settings,contact_types}' ELSE '[]'::jsonb END
  ) AS element
  WHERE raw_table._id = 'settings'
    AND NOT COALESCE(raw_table._deleted, FALSE)
    AND jsonb_typeof(element) = 'object'
    AND {{ nonempty_text("element ->> 'id'") }} IS NOT NULL
  ORDER BY element ->> 'id'
),
seen AS (
  SELECT DISTINCT contact.contact_type AS id
  FROM {{ ref('contact') }} AS contact
  WHERE contact.contact_type IS NOT NULL
)
SELECT
  COALESCE(configured.id, seen.id) AS id,
  CASE
    WHEN COALESCE(configured.id, seen.id) = 'person' THEN TRUE
    ELSE COALESCE({{ safe_boolean("configured.person_text") }}, FALSE)
  END AS person,
  (configured.id IS NOT NULL) AS configured
FROM configured
FULL OUTER JOIN seen ON seen.id = configured.id
