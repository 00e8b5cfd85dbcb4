{#-
  The newest saved_timestamp already in this model, as a SQL subquery (evaluated by
  PostgreSQL when the model's temporary table is built, i.e. before the delete+insert).
  A subquery instead of a render-time query keeps microseconds exact and needs no
  statement/run_query. An empty table yields -infinity, so everything is new.
-#}
{% macro incremental_watermark() -%}
(SELECT COALESCE(MAX(saved_timestamp), '-infinity'::timestamp) FROM {{ this }})
{%- endmacro %}
