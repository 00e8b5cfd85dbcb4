{#- dbt's cross-database macros with dbt-postgres's SQL. Every public name dispatches, so a
    project may supply postgres__<name> / default__<name>; the implementations emit exactly the
    text dbt-postgres emits (whitespace included), hence the explicit "\n" strings. -#}

{% macro date_trunc(datepart, date) %}{{ return(adapter.dispatch('date_trunc', 'dbt')(datepart, date)) }}{% endmacro %}
{% macro default__date_trunc(datepart, date) -%}
date_trunc('{{ datepart }}', {{ date }})
{%- endmacro %}

{% macro dateadd(datepart, interval, from_date_or_timestamp) %}{{ return(adapter.dispatch('dateadd', 'dbt')(datepart, interval, from_date_or_timestamp)) }}{% endmacro %}
{% macro postgres__dateadd(datepart, interval, from_date_or_timestamp) -%}
{{ "\n\n    " ~ from_date_or_timestamp ~ " + ((interval '1 " ~ datepart ~ "') * (" ~ interval ~ "))\n\n" }}
{%- endmacro %}
{% macro default__dateadd(datepart, interval, from_date_or_timestamp) -%}
{{ postgres__dateadd(datepart, interval, from_date_or_timestamp) }}
{%- endmacro %}

{% macro datediff(first_date, second_date, datepart) %}{{ return(adapter.dispatch('datediff', 'dbt')(first_date, second_date, datepart)) }}{% endmacro %}
{% macro postgres__datediff(first_date, second_date, datepart) -%}
{#- Each unit is the next coarser difference scaled, plus the field difference. -#}
{%- set a = first_date -%}
{%- set b = second_date -%}
{%- set on_date = "date_part('{0}', ({1})::date)" -%}
{%- set on_ts = "date_part('{0}', ({1})::timestamp)" -%}
{%- set floored = "floor(date_part('{0}', ({1})::timestamp))" -%}
{%- set steps = {
  'quarter': ('year', ' * 4 + ', on_date),
  'month': ('year', ' * 12 + ', on_date),
  'hour': ('day', ' * 24 + ', on_ts),
  'minute': ('hour', ' * 60 + ', on_ts),
  'second': ('minute', ' * 60 + ', floored),
  'millisecond': ('minute', ' * 60000 + ', floored),
  'microsecond': ('minute', ' * 60000000 + ', floored),
} -%}
{%- if datepart == 'year' -%}
  {%- set expr = '(' ~ on_date.format('year', b) ~ ' - ' ~ on_date.format('year', a) ~ ')' -%}
{%- elif datepart == 'day' -%}
  {%- set expr = '((' ~ b ~ ')::date - (' ~ a ~ ')::date)' -%}
{%- elif datepart == 'week' -%}
  {%- set expr = '(' ~ datediff(a, b, 'day') ~ ' / 7 + case\n'
      ~ '            when ' ~ on_ts.format('dow', a) ~ ' <= ' ~ on_ts.format('dow', b) ~ ' then\n'
      ~ '                case when ' ~ a ~ ' <= ' ~ b ~ ' then 0 else -1 end\n'
      ~ '            else\n'
      ~ '                case when ' ~ a ~ ' <= ' ~ b ~ ' then 1 else 0 end\n'
      ~ '        end)' -%}
{%- elif datepart in steps -%}
  {%- set coarser, scale, field = steps[datepart] -%}
  {%- set expr = '(' ~ datediff(a, b, coarser) ~ scale ~ field.format(datepart, b) ~ ' - ' ~ field.format(datepart, a) ~ ')' -%}
{%- else -%}
  {{ exceptions.raise_compiler_error("Unsupported datepart for macro datediff in postgres: {!r}".format(datepart)) }}
{%- endif -%}
{{ "\n        " ~ expr ~ "\n    " }}
{%- endmacro %}
{% macro default__datediff(first_date, second_date, datepart) -%}
{{ postgres__datediff(first_date, second_date, datepart) }}
{%- endmacro %}

{% macro last_day(date, datepart) %}{{ return(adapter.dispatch('last_day', 'dbt')(date, datepart)) }}{% endmacro %}
{% macro default_last_day(date, datepart) -%}
{{ "cast(\n        " ~ dbt.dateadd('day', '-1', dbt.dateadd(datepart, '1', dbt.date_trunc(datepart, date))) ~ "\n        as date)" }}
{%- endmacro %}
{% macro default__last_day(date, datepart) -%}
{{ dbt.default_last_day(date, datepart) }}
{%- endmacro %}
{% macro postgres__last_day(date, datepart) -%}
{%- if datepart == 'quarter' -%}
{#- PostgreSQL intervals have no quarter: three months. -#}
{{ "-- postgres dateadd does not support quarter interval.\n    cast(\n        " ~ dbt.dateadd('day', '-1', dbt.dateadd('month', '3', dbt.date_trunc(datepart, date))) ~ "\n        as date)" }}
{%- else -%}
{{ dbt.default_last_day(date, datepart) }}
{%- endif -%}
{%- endmacro %}

{% macro date(year, month, day) %}{{ return(adapter.dispatch('date', 'dbt')(year, month, day)) }}{% endmacro %}
{% macro default__date(year, month, day) -%}
to_date('{{ modules.datetime.date(year, month, day).strftime('%Y-%m-%d') }}', 'YYYY-MM-DD')
{%- endmacro %}

{% macro concat(fields) %}{{ return(adapter.dispatch('concat', 'dbt')(fields)) }}{% endmacro %}
{% macro default__concat(fields) -%}
{{ fields | join(' || ') }}
{%- endmacro %}

{% macro hash(field) %}{{ return(adapter.dispatch('hash', 'dbt')(field)) }}{% endmacro %}
{% macro default__hash(field) -%}
md5(cast({{ field }} as {{ api.Column.translate_type('string') }}))
{%- endmacro %}

{#- This one prints (no return), as dbt's does: its output carries the wrapper's whitespace. -#}
{% macro cast_bool_to_text(field) -%}
{{ "\n  " ~ adapter.dispatch('cast_bool_to_text', 'dbt')(field) ~ "\n" }}
{%- endmacro %}
{% macro default__cast_bool_to_text(field) -%}
{{ "\n    cast(" ~ field ~ " as " ~ api.Column.translate_type('string') ~ ")\n" }}
{%- endmacro %}

{% macro cast(field, type) %}{{ return(adapter.dispatch('cast', 'dbt')(field, type)) }}{% endmacro %}
{% macro default__cast(field, type) -%}
{{ "\n    cast(" ~ field ~ " as " ~ type ~ ")\n" }}
{%- endmacro %}

{% macro safe_cast(field, type) %}{{ return(adapter.dispatch('safe_cast', 'dbt')(field, type)) }}{% endmacro %}
{#- PostgreSQL has no try_cast: a plain cast. -#}
{% macro default__safe_cast(field, type) -%}
{{ "\n    \n    cast(" ~ field ~ " as " ~ type ~ ")\n" }}
{%- endmacro %}

{% macro split_part(string_text, delimiter_text, part_number) %}{{ return(adapter.dispatch('split_part', 'dbt')(string_text, delimiter_text, part_number)) }}{% endmacro %}
{% macro default__split_part(string_text, delimiter_text, part_number) -%}
{{ "\n\n    split_part(\n        " ~ string_text ~ ",\n        " ~ delimiter_text ~ ",\n        " ~ part_number ~ "\n        )\n\n" }}
{%- endmacro %}
{#- A negative part counts from the end: PostgreSQL < 14 has no negative split_part. -#}
{% macro _split_part_negative(string_text, delimiter_text, part_number) -%}
{{ "\n\n    split_part(\n        " ~ string_text ~ ",\n        " ~ delimiter_text ~ ",\n          length(" ~ string_text ~ ")\n          - length(\n              replace(" ~ string_text ~ ",  " ~ delimiter_text ~ ", '')\n          ) + 2 + " ~ part_number ~ "\n        )\n\n" }}
{%- endmacro %}
{% macro postgres__split_part(string_text, delimiter_text, part_number) -%}
{%- if part_number >= 0 -%}
  {%- set body = dbt.default__split_part(string_text, delimiter_text, part_number) -%}
{%- else -%}
  {%- set body = dbt._split_part_negative(string_text, delimiter_text, part_number) -%}
{%- endif -%}
{{ "\n\n  \n    " ~ body ~ "\n  \n\n" }}
{%- endmacro %}

{% macro listagg(measure, delimiter_text="','", order_by_clause=none, limit_num=none) %}{{ return(adapter.dispatch('listagg', 'dbt')(measure, delimiter_text, order_by_clause, limit_num)) }}{% endmacro %}
{% macro postgres__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
{%- set order_by = order_by_clause if order_by_clause else '' -%}
{%- if limit_num -%}
{{ "array_to_string(\n        (array_agg(\n            " ~ measure ~ "\n            " ~ order_by ~ "\n        ))[1:" ~ limit_num ~ "],\n        " ~ delimiter_text ~ "\n        )" }}
{%- else -%}
{{ "\n    string_agg(\n        " ~ measure ~ ",\n        " ~ delimiter_text ~ "\n        " ~ order_by ~ "\n        )" }}
{%- endif -%}
{%- endmacro %}

{#- PostgreSQL has no any_value before 16: min() picks one value. -#}
{% macro any_value(expression) %}{{ return(adapter.dispatch('any_value', 'dbt')(expression)) }}{% endmacro %}
{% macro postgres__any_value(expression) -%}
min({{ expression }})
{%- endmacro %}

{% macro bool_or(expression) %}{{ return(adapter.dispatch('bool_or', 'dbt')(expression)) }}{% endmacro %}
{% macro default__bool_or(expression) -%}
bool_or({{ expression }})
{%- endmacro %}

{% macro escape_single_quotes(expression) %}{{ return(adapter.dispatch('escape_single_quotes', 'dbt')(expression)) }}{% endmacro %}
{% macro default__escape_single_quotes(expression) -%}
{{ expression | replace("'", "''") }}
{%- endmacro %}

{% macro string_literal(value) %}{{ return(adapter.dispatch('string_literal', 'dbt')(value)) }}{% endmacro %}
{% macro default__string_literal(value) -%}
'{{ value }}'
{%- endmacro %}

{% macro right(string_text, length_expression) %}{{ return(adapter.dispatch('right', 'dbt')(string_text, length_expression)) }}{% endmacro %}
{% macro default__right(string_text, length_expression) -%}
{{ "\n\n    right(\n        " ~ string_text ~ ",\n        " ~ length_expression ~ "\n    )" }}
{%- endmacro %}

{% macro length(expression) %}{{ return(adapter.dispatch('length', 'dbt')(expression)) }}{% endmacro %}
{% macro default__length(expression) -%}
{{ "\n\n    length(\n        " ~ expression ~ "\n    )" }}
{%- endmacro %}

{% macro position(substring_text, string_text) %}{{ return(adapter.dispatch('position', 'dbt')(substring_text, string_text)) }}{% endmacro %}
{% macro default__position(substring_text, string_text) -%}
{{ "\n\n    position(\n        " ~ substring_text ~ " in " ~ string_text ~ "\n    )" }}
{%- endmacro %}

{% macro replace(field, old_chars, new_chars) %}{{ return(adapter.dispatch('replace', 'dbt')(field, old_chars, new_chars)) }}{% endmacro %}
{% macro default__replace(field, old_chars, new_chars) -%}
{{ "\n\n    replace(\n        " ~ field ~ ",\n        " ~ old_chars ~ ",\n        " ~ new_chars ~ "\n    )\n\n\n" }}
{%- endmacro %}

{% macro equals(expr1, expr2) %}{{ return(adapter.dispatch('equals', 'dbt')(expr1, expr2)) }}{% endmacro %}
{% macro default__equals(expr1, expr2) -%}
({{ expr1 }} = {{ expr2 }})
{%- endmacro %}

{% macro except() %}{{ return(adapter.dispatch('except', 'dbt')()) }}{% endmacro %}
{% macro default__except() -%}
{{ "\n\n    except\n\n" }}
{%- endmacro %}

{% macro intersect() %}{{ return(adapter.dispatch('intersect', 'dbt')()) }}{% endmacro %}
{% macro default__intersect() -%}
{{ "\n\n    intersect\n\n" }}
{%- endmacro %}

{% macro array_construct(inputs=[], data_type=api.Column.translate_type('integer')) %}{{ return(adapter.dispatch('array_construct', 'dbt')(inputs, data_type)) }}{% endmacro %}
{% macro default__array_construct(inputs, data_type) -%}
{%- if inputs | length > 0 -%}
{{ "\n    array[ " ~ inputs | join(' , ') ~ " ]\n    " }}
{%- else -%}
{{ "\n    array[]::" ~ data_type ~ "[]\n    " }}
{%- endif -%}
{%- endmacro %}

{% macro array_append(array, new_element) %}{{ return(adapter.dispatch('array_append', 'dbt')(array, new_element)) }}{% endmacro %}
{% macro default__array_append(array, new_element) -%}
array_append({{ array }}, {{ new_element }})
{%- endmacro %}

{% macro array_concat(array_1, array_2) %}{{ return(adapter.dispatch('array_concat', 'dbt')(array_1, array_2)) }}{% endmacro %}
{% macro default__array_concat(array_1, array_2) -%}
array_cat({{ array_1 }}, {{ array_2 }})
{%- endmacro %}
