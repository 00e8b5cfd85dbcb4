{#- current_timestamp prints (no return), as dbt's does. -#}
{% macro current_timestamp() -%}
{{ adapter.dispatch('current_timestamp', 'dbt')() }}
{%- endmacro %}
{% macro postgres__current_timestamp() -%}
now()
{%- endmacro %}

{% macro snapshot_get_time() -%}
{{ adapter.dispatch('snapshot_get_time', 'dbt')() }}
{%- endmacro %}
{% macro postgres__snapshot_get_time() -%}
{{ current_timestamp() }}::timestamp without time zone
{%- endmacro %}

{% macro snapshot_string_as_time(timestamp) %}{{ return(adapter.dispatch('snapshot_string_as_time', 'dbt')(timestamp)) }}{% endmacro %}
{% macro postgres__snapshot_string_as_time(timestamp) %}{{ return("'" ~ timestamp ~ "'::timestamp without time zone") }}{% endmacro %}

{#- Deprecated in dbt, still called by older packages (dbt_utils < 1.0 callers). -#}
{% macro current_timestamp_backcompat() %}{{ return(adapter.dispatch('current_timestamp_backcompat', 'dbt')()) }}{% endmacro %}
{% macro postgres__current_timestamp_backcompat() -%}
{{ "\n    current_timestamp::" ~ type_timestamp() ~ "\n" }}
{%- endmacro %}

{% macro current_timestamp_in_utc_backcompat() %}{{ return(adapter.dispatch('current_timestamp_in_utc_backcompat', 'dbt')()) }}{% endmacro %}
{% macro postgres__current_timestamp_in_utc_backcompat() -%}
{{ "\n    (current_timestamp at time zone 'utc')::" ~ type_timestamp() ~ "\n" }}
{%- endmacro %}
