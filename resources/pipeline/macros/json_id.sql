{#-
  The `_id` of a lineage object (`parent`, `contact`, …) given as a jsonb expression.
  CHT stores these as objects, but real documents also carry "" or the string "{}" there;
  only an object yields an id, anything else is NULL (never an error).
-#}
{% macro json_id(jsonb_expression) -%}
(CASE WHEN jsonb_typeof({{ jsonb_expression }}) = 'object'
  THEN NULLIF({{ jsonb_expression }} ->> '_id', '') END)
{%- endmacro %}
