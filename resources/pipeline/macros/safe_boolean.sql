{#-
  A boolean from a text expression that may hold any spelling CHT documents use
  ("true", "FALSE", "yes", "1", …). Anything unrecognised is NULL instead of a cast error.
-#}
{% macro safe_boolean(text_expression) -%}
(CASE lower(btrim({{ text_expression }}))
  WHEN 'true' THEN TRUE WHEN 't' THEN TRUE WHEN 'yes' THEN TRUE WHEN 'y' THEN TRUE
  WHEN '1' THEN TRUE WHEN 'on' THEN TRUE
  WHEN 'false' THEN FALSE WHEN 'f' THEN FALSE WHEN 'no' THEN FALSE WHEN 'n' THEN FALSE
  WHEN '0' THEN FALSE WHEN 'off' THEN FALSE
END)
{%- endmacro %}
