{#- Series and date spines: powers of two cross-joined, as dbt builds them. -#}
{% macro get_powers_of_two(upper_bound) %}{{ return(adapter.dispatch('get_powers_of_two', 'dbt')(upper_bound)) }}{% endmacro %}
{% macro default__get_powers_of_two(upper_bound) -%}
{%- if upper_bound <= 0 -%}
  {{ exceptions.raise_compiler_error("upper bound must be positive") }}
{%- endif -%}
{%- for power in range(1, 100) -%}
  {%- if upper_bound <= 2 ** power -%}{{ return(power) }}{%- endif -%}
{%- endfor -%}
{%- endmacro %}

{% macro generate_series(upper_bound) %}{{ return(adapter.dispatch('generate_series', 'dbt')(upper_bound)) }}{% endmacro %}
{% macro default__generate_series(upper_bound) -%}
{%- set n = dbt.get_powers_of_two(upper_bound) -%}
{%- set terms = [] -%}
{%- set froms = [] -%}
{%- for i in range(n) -%}
  {%- set joiner = '' if loop.last else ' + ' -%}
  {%- do terms.append("\n    p" ~ i ~ ".generated_number * power(2, " ~ i ~ ")\n    " ~ joiner ~ "\n    ") -%}
  {%- do froms.append("\n    p as p" ~ i ~ "\n    " ~ ('' if loop.last else ' cross join ') ~ "\n    ") -%}
{%- endfor -%}
{{ "\n\n    \n\n    with p as (\n        select 0 as generated_number union all select 1\n    ), unioned as (\n\n    select\n\n    "
   ~ terms | join('') ~ "\n    + 1\n    as generated_number\n\n    from\n\n    " ~ froms | join('')
   ~ "\n\n    )\n\n    select *\n    from unioned\n    where generated_number <= " ~ upper_bound ~ "\n    order by generated_number\n\n" }}
{%- endmacro %}

{% macro get_intervals_between(start_date, end_date, datepart) %}{{ return(adapter.dispatch('get_intervals_between', 'dbt')(start_date, end_date, datepart)) }}{% endmacro %}
{% macro default__get_intervals_between(start_date, end_date, datepart) -%}
{%- call statement('get_intervals_between', fetch_result=True) -%}
select {{ dbt.datediff(start_date, end_date, datepart) }}
{%- endcall -%}
{%- set result = load_result('get_intervals_between') -%}
{%- if result and result['data'] -%}
  {{ return(result['data'][0][0]) }}
{%- else -%}
  {{ return(1) }}
{%- endif -%}
{%- endmacro %}

{% macro date_spine(datepart, start_date, end_date) %}{{ return(adapter.dispatch('date_spine', 'dbt')(datepart, start_date, end_date)) }}{% endmacro %}
{% macro default__date_spine(datepart, start_date, end_date) -%}
{%- set series = dbt.generate_series(dbt.get_intervals_between(start_date, end_date, datepart)) -%}
{%- set period = dbt.dateadd(datepart, "row_number() over (order by 1) - 1", start_date) -%}
{{ "\n\n\n    \n\n\n    with rawdata as (\n\n        " ~ series ~ "\n\n    ),\n\n    all_periods as (\n\n        select (\n            " ~ period
   ~ "\n        ) as date_" ~ datepart ~ "\n        from rawdata\n\n    ),\n\n    filtered as (\n\n        select *\n        from all_periods\n        where date_" ~ datepart
   ~ " <= " ~ end_date ~ "\n\n    )\n\n    select * from filtered\n\n" }}
{%- endmacro %}
