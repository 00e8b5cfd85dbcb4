{#-
  timestamptz from an ISO 8601 text ("2026-07-22", "2026-07-22T14:01:19.402Z",
  "2026-07-22 14:01:19+03:00"); NULL for anything else, including impossible dates such as
  "2026-02-30" or "1990-0-3". Text without a zone is read as UTC, so results do not depend
  on the server's TimeZone setting. Pure SQL: the regex admits only strings PostgreSQL can
  cast, and the day-of-month check runs in a nested CASE because PostgreSQL does not promise
  left-to-right evaluation of AND.
-#}
{% macro safe_iso_timestamptz(text_expression) -%}
(CASE WHEN btrim({{ text_expression }}) ~ '^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,9})?)?)?([Zz]|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)?$'
  THEN (CASE WHEN substr(btrim({{ text_expression }}), 9, 2)::int <= extract(day from
      make_date(substr(btrim({{ text_expression }}), 1, 4)::int, substr(btrim({{ text_expression }}), 6, 2)::int, 1)
      + interval '1 month - 1 day')
    THEN (CASE WHEN btrim({{ text_expression }}) ~ '[T ][0-9:.]+([Zz]|[+-][0-9:]+)$'
      THEN btrim({{ text_expression }})::timestamptz
      ELSE btrim({{ text_expression }})::timestamp AT TIME ZONE 'UTC' END)
  END)
END)
{%- endmacro %}
