{#-
  The newest saved_timestamp already in this model, as a timestamp literal. It is read while
  the model renders (as CHT Pipeline does), not left as a subquery: with a literal the
  planner sees how few rows are new and looks them up by index, whereas a subquery gets a
  default one-third selectivity and, once the table is analyzed, a sequential scan of the
  whole raw table on every run. to_char keeps all six fractional digits as text, so nothing
  is rounded (a watermark rounded up skips rows). An empty table yields -infinity.
-#}
{% macro incremental_watermark() -%}
  {%- set watermark = none -%}
  {%- if execute -%}
    {%- set result = run_query("SELECT to_char(MAX(saved_timestamp), 'YYYY-MM-DD HH24:MI:SS.US') AS watermark FROM " ~ this) -%}
    {%- set watermark = result.rows[0][0] -%}
  {%- endif -%}
  {%- if watermark is none -%}
    '-infinity'::timestamp
  {%- else -%}
    '{{ watermark }}'::timestamp
  {%- endif -%}
{%- endmacro %}
