{#- A text expression with "" turned into NULL: CHT writes "" for "no value" in many fields. -#}
{% macro nonempty_text(text_expression) -%}
NULLIF({{ text_expression }}, '')
{%- endmacro %}
