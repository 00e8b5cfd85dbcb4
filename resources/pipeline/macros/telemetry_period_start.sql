{#-
  Start of the period a telemetry doc covers, from metadata.year/month/day (day missing →
  1st). App versions before 3.8.0 wrote zero-based months. Any malformed part → NULL.
-#}
{% macro telemetry_period_start(doc) -%}
(CASE WHEN btrim({{ doc }} #>> '{metadata,year}') ~ '^[0-9]{4}$'
       AND btrim({{ doc }} #>> '{metadata,month}') ~ '^[0-9]{1,2}$'
       AND btrim(COALESCE({{ doc }} #>> '{metadata,day}', '1')) ~ '^[0-9]{1,2}$'
  THEN {{ safe_iso_timestamptz(
    "btrim(" ~ doc ~ " #>> '{metadata,year}') || '-' || lpad((btrim(" ~ doc ~ " #>> '{metadata,month}')::int"
    ~ " + (CASE WHEN regexp_match(" ~ doc ~ " #>> '{metadata,versions,app}', '([0-9]{1,9})[.]([0-9]{1,9})[.]([0-9]{1,9})')::int[] < '{3,8,0}'::int[] THEN 1 ELSE 0 END))::text, 2, '0')"
    ~ " || '-' || lpad(btrim(COALESCE(" ~ doc ~ " #>> '{metadata,day}', '1')), 2, '0')"
  ) }}
END)
{%- endmacro %}
