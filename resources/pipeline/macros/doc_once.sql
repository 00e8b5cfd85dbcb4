{#-
  Joins `source_doc.doc`: the raw row's document, decompressed once per row. PostgreSQL
  decompresses a stored (TOASTed) jsonb value again for every operator applied to it, and
  these models apply dozens (the safe_* guards read a field several times), which made
  them several times slower than the field count suggests. `|| '{}'` builds one in-memory
  copy, and OFFSET 0 keeps the planner from folding the copy back into each use. CouchDB
  documents are always JSON objects, for which the copy is identical.
-#}
{% macro doc_once(raw_alias) -%}
CROSS JOIN LATERAL (SELECT {{ raw_alias }}.doc || '{}'::jsonb AS doc OFFSET 0) AS source_doc
{%- endmacro %}
