{#- Config helpers materializations and packages call. -#}
{% macro should_store_failures() -%}
{%- set configured = config.get('store_failures') -%}
{{ return(flags.STORE_FAILURES if configured is none else configured) }}
{%- endmacro %}

{% macro set_sql_header(config) -%}
{{ config.set('sql_header', caller()) }}
{%- endmacro %}

{% macro noop_statement(name=none, message=none, code=none, rows_affected=none, res=none) -%}
{{ return('') }}
{%- endmacro %}
