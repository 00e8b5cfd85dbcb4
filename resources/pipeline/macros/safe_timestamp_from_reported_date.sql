{#-
  timestamptz from a jsonb `reported_date`-like value. CHT writes milliseconds since the
  epoch as a number, but also as a numeric string (cht-conf csv-to-docs) or an ISO string
  (cht-core factories). Milliseconds are kept (CHT Pipeline truncates to whole seconds).
  Out-of-range numbers, malformed strings, objects, booleans → NULL, never an error: the
  14-digit bound keeps to_timestamp inside PostgreSQL's timestamp range.
-#}
{% macro safe_timestamp_from_reported_date(jsonb_expression) -%}
(CASE
  WHEN jsonb_typeof({{ jsonb_expression }}) NOT IN ('number', 'string') THEN NULL
  WHEN btrim({{ jsonb_expression }} #>> '{}') ~ '^-?[0-9]{1,14}([.][0-9]+)?$'
    THEN to_timestamp(btrim({{ jsonb_expression }} #>> '{}')::numeric / 1000)
  WHEN jsonb_typeof({{ jsonb_expression }}) = 'string'
    THEN {{ safe_iso_timestamptz(jsonb_expression ~ " #>> '{}'") }}
END)
{%- endmacro %}
