{#- Relation and column helpers packages call. Introspection goes through the adapter object
    (TypeScript); these shape names and SQL the way dbt-postgres does. -#}

{% macro make_temp_relation(base_relation, suffix='__dbt_tmp') %}{{ return(adapter.dispatch('make_temp_relation', 'dbt')(base_relation, suffix)) }}{% endmacro %}
{% macro default__make_temp_relation(base_relation, suffix) %}{{ return(base_relation.incorporate(path={'identifier': base_relation.identifier ~ suffix})) }}{% endmacro %}
{#- PostgreSQL temp tables live in their own schema: no database/schema, a time suffix, 63 bytes. -#}
{% macro postgres__make_temp_relation(base_relation, suffix) -%}
{%- set stamp = modules.datetime.datetime.now().strftime('%H%M%S%f') -%}
{%- set max_length = base_relation.relation_max_name_length() -%}
{%- set tail = suffix ~ stamp -%}
{%- if tail | length > max_length -%}
  {{ exceptions.raise_compiler_error("Relation suffix is too long (" ~ suffix | length ~ " characters). Maximum length is " ~ (max_length - stamp | length) ~ " characters.") }}
{%- endif -%}
{{ return(base_relation.incorporate(path={'identifier': base_relation.identifier[:max_length - tail | length] ~ tail, 'schema': none, 'database': none})) }}
{%- endmacro %}

{% macro make_intermediate_relation(base_relation, suffix='__dbt_tmp') %}{{ return(adapter.dispatch('make_intermediate_relation', 'dbt')(base_relation, suffix)) }}{% endmacro %}
{% macro default__make_intermediate_relation(base_relation, suffix) %}{{ return(dbt.default__make_temp_relation(base_relation, suffix)) }}{% endmacro %}

{% macro make_backup_relation(base_relation, backup_relation_type, suffix='__dbt_backup') %}{{ return(adapter.dispatch('make_backup_relation', 'dbt')(base_relation, backup_relation_type, suffix)) }}{% endmacro %}
{% macro default__make_backup_relation(base_relation, backup_relation_type, suffix) %}{{ return(base_relation.incorporate(path={'identifier': base_relation.identifier ~ suffix}, type=backup_relation_type)) }}{% endmacro %}

{% macro load_cached_relation(relation) %}{{ return(adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier)) }}{% endmacro %}
{% macro load_relation(relation) %}{{ return(load_cached_relation(relation)) }}{% endmacro %}

{% macro get_or_create_relation(database, schema, identifier, type) %}{{ return(adapter.dispatch('get_or_create_relation', 'dbt')(database, schema, identifier, type)) }}{% endmacro %}
{% macro default__get_or_create_relation(database, schema, identifier, type) -%}
{%- set existing = adapter.get_relation(database=database, schema=schema, identifier=identifier) -%}
{%- if existing -%}{{ return([true, existing]) }}{%- endif -%}
{{ return([false, api.Relation.create(database=database, schema=schema, identifier=identifier, type=type)]) }}
{%- endmacro %}

{% macro get_columns_in_relation(relation) %}{{ return(adapter.get_columns_in_relation(relation)) }}{% endmacro %}

{% macro get_empty_subquery_sql(select_sql, select_sql_header=none) %}{{ return(adapter.dispatch('get_empty_subquery_sql', 'dbt')(select_sql, select_sql_header)) }}{% endmacro %}
{% macro default__get_empty_subquery_sql(select_sql, select_sql_header=none) -%}
{{ (select_sql_header if select_sql_header is not none else '') ~ "select * from (\n        " ~ select_sql ~ "\n    ) as __dbt_sbq\n    where false\n    limit 0\n" }}
{%- endmacro %}

{% macro get_columns_in_query(select_sql) %}{{ return(adapter.dispatch('get_columns_in_query', 'dbt')(select_sql)) }}{% endmacro %}
{% macro default__get_columns_in_query(select_sql) -%}
{%- call statement('get_columns_in_query', fetch_result=True, auto_begin=False) -%}
{{ get_empty_subquery_sql(select_sql) }}
{%- endcall -%}
{{ return(load_result('get_columns_in_query').table.columns | map(attribute='name') | list) }}
{%- endmacro %}

{% macro get_list_of_column_names(columns) %}{{ return(columns | map(attribute='name') | list) }}{% endmacro %}

{% macro get_create_table_as_sql(temporary, relation, sql) %}{{ return(adapter.dispatch('get_create_table_as_sql', 'dbt')(temporary, relation, sql)) }}{% endmacro %}
{% macro default__get_create_table_as_sql(temporary, relation, sql) %}{{ return(create_table_as(temporary, relation, sql)) }}{% endmacro %}
{% macro create_table_as(temporary, relation, compiled_code, language='sql') %}{{ return(adapter.dispatch('create_table_as', 'dbt')(temporary, relation, compiled_code)) }}{% endmacro %}
{% macro postgres__create_table_as(temporary, relation, sql) -%}
{%- set header = config.get('sql_header', none) -%}
{%- set kind = 'temporary' if temporary else ('unlogged' if config.get('unlogged', default=false) else '') -%}
{{ "\n  \n    " ~ (header if header is not none else '') ~ "\n\n  create " ~ kind ~ " table " ~ relation ~ "\n  \n  \n    as\n  \n  (\n    " ~ sql ~ "\n  );\n  " }}
{%- endmacro %}

{% macro get_create_view_as_sql(relation, sql) %}{{ return(adapter.dispatch('get_create_view_as_sql', 'dbt')(relation, sql)) }}{% endmacro %}
{% macro default__get_create_view_as_sql(relation, sql) %}{{ return(create_view_as(relation, sql)) }}{% endmacro %}
{% macro create_view_as(relation, sql) %}{{ return(adapter.dispatch('create_view_as', 'dbt')(relation, sql)) }}{% endmacro %}
{% macro default__create_view_as(relation, sql) -%}
{%- set header = config.get('sql_header', none) -%}
{{ (header if header is not none else '') ~ "\n  create view " ~ relation ~ "\n    \n    \n  as (\n    " ~ sql ~ "\n  );" }}
{%- endmacro %}

{% macro drop_relation_if_exists(relation) -%}
{%- if relation is not none -%}{{ adapter.drop_relation(relation) }}{%- endif -%}
{%- endmacro %}

{% macro truncate_relation(relation) %}{{ return(adapter.dispatch('truncate_relation', 'dbt')(relation)) }}{% endmacro %}
{% macro default__truncate_relation(relation) -%}
{%- call statement('truncate_relation') -%}truncate table {{ relation.render() }}{%- endcall -%}
{%- endmacro %}

{% macro rename_relation(from_relation, to_relation) %}{{ return(adapter.rename_relation(from_relation, to_relation)) }}{% endmacro %}

{#- Generic tests' `where:` config: the model wrapped in a filtered subquery. -#}
{% macro get_where_subquery(relation) %}{{ return(adapter.dispatch('get_where_subquery', 'dbt')(relation)) }}{% endmacro %}
{% macro default__get_where_subquery(relation) -%}
{%- set where = config.get('where', '') -%}
{%- if where -%}
  {{ return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') }}
{%- else -%}
  {{ return(relation) }}
{%- endif -%}
{%- endmacro %}
