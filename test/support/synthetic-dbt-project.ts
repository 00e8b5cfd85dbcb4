import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A large dbt project written to `dir` (deterministic), shaped like a deployment's: a root
 * project with `models` models in ten folders (views over the raw table, each ref'ing one or
 * two models of an earlier folder and calling a few macros), properties YAML per folder, and
 * `macros` macros — two thirds in the root project, one third in a local package `big_utils`
 * written the way dbt-utils is (a public macro that calls adapter.dispatch, a `default__`
 * implementation, a `postgres__` one for some), reached through the root's `dispatch:` config.
 * It compiles against the raw table of the bundled pipeline's schema (env POSTGRES_SCHEMA /
 * POSTGRES_TABLE), so a compile-only run needs PostgreSQL but no data.
 */
export function writeSyntheticProject(dir: string, o: { models?: number; macros?: number } = {}): string {
  const models = o.models ?? 200;
  const macros = o.macros ?? 300;
  const write = (rel: string, text: string): void => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  };
  const rootMacros = Math.round((macros * 2) / 3);
  // Each package entry point accounts for two or three definitions (public + default__ [+ postgres__]).
  const utils = Math.max(1, Math.round((macros - rootMacros) / 2.5));
  const folders = 10;

  write(
    'dbt_project.yml',
    [
      "name: 'big_project'",
      "version: '1.0.0'",
      'config-version: 2',
      "profile: 'default'",
      'model-paths: ["models"]',
      'macro-paths: ["macros"]',
      'vars:',
      '  lookback_days: 30',
      '  big_flag: true',
      'dispatch:',
      '  - macro_namespace: big_utils',
      "    search_order: ['big_project', 'big_utils']",
      'models:',
      '  big_project:',
      '    +materialized: view',
      ...Array.from({ length: folders }, (_, f) => [`    layer_${f}:`, `      +tags: ['layer_${f}']`]).flat(),
      '',
    ].join('\n'),
  );
  write('packages.yml', ['packages:', '  - local: big_utils', ''].join('\n'));

  // The package: dbt-utils-shaped dispatching macros.
  write(
    'big_utils/dbt_project.yml',
    ["name: 'big_utils'", "version: '1.0.0'", 'config-version: 2', 'macro-paths: ["macros"]', ''].join('\n'),
  );
  const perUtilsFile = 5;
  for (let file = 0; file * perUtilsFile < utils; file++) {
    const parts: string[] = [];
    for (let k = file * perUtilsFile; k < Math.min(utils, (file + 1) * perUtilsFile); k++) {
      parts.push(
        `{% macro util_${k}(expr, kind='text', fallback=none) -%}`,
        `  {{ return(adapter.dispatch('util_${k}', 'big_utils')(expr, kind, fallback)) }}`,
        `{%- endmacro %}`,
        '',
        `{% macro default__util_${k}(expr, kind, fallback) -%}`,
        `  {%- set casts = {'text': 'text', 'int': 'bigint', 'num': 'numeric', 'ts': 'timestamp'} -%}`,
        `  {%- set target_type = casts.get(kind, 'text') -%}`,
        `  {%- if fallback is not none -%}`,
        `    coalesce(nullif(trim(({{ expr }})::text), ''), {{ fallback }})::{{ target_type }}`,
        `  {%- else -%}`,
        `    nullif(trim(({{ expr }})::text), '')::{{ target_type }}`,
        `  {%- endif -%}`,
        `{%- endmacro %}`,
        '',
      );
      if (k % 2 === 0)
        parts.push(
          `{% macro postgres__util_${k}(expr, kind, fallback) -%}`,
          `  {%- set parts = [] -%}`,
          `  {%- for piece in [expr] -%}`,
          `    {%- do parts.append('(' ~ piece ~ ')') -%}`,
          `  {%- endfor -%}`,
          `  {{ default__util_${k}(parts | join(' || '), kind, fallback) }}`,
          `{%- endmacro %}`,
          '',
        );
    }
    write(`big_utils/macros/utils_${String(file).padStart(2, '0')}.sql`, parts.join('\n'));
  }

  // Root macros: ten to a file, with the loops, sets and conditionals real macros have.
  const perFile = 10;
  for (let file = 0; file * perFile < rootMacros; file++) {
    const parts: string[] = [];
    for (let k = file * perFile; k < Math.min(rootMacros, (file + 1) * perFile); k++) {
      parts.push(
        `{#- Field ${k}: a JSON path of the document, cleaned. -#}`,
        `{% macro field_${k}(doc, path, alias=none) -%}`,
        `  {%- set segments = path.split('.') -%}`,
        `  {%- set ns = namespace(expr=doc) -%}`,
        `  {%- for s in segments -%}`,
        `    {%- if loop.last -%}`,
        `      {%- set ns.expr = ns.expr ~ " ->> '" ~ s ~ "'" -%}`,
        `    {%- else -%}`,
        `      {%- set ns.expr = ns.expr ~ " -> '" ~ s ~ "'" -%}`,
        `    {%- endif -%}`,
        `  {%- endfor -%}`,
        `  {%- if var('big_flag', false) and k_is_even(${k}) -%}`,
        `    {{ big_utils.util_${k % utils}(ns.expr, 'text') }}`,
        `  {%- else -%}`,
        `    nullif({{ ns.expr }}, '')`,
        `  {%- endif -%}`,
        `  {%- if alias %} AS {{ adapter.quote(alias) }}{% endif -%}`,
        `{%- endmacro %}`,
        '',
      );
    }
    if (file === 0) parts.push(`{% macro k_is_even(k) %}{{ return(k % 2 == 0) }}{% endmacro %}`, '');
    write(`macros/fields_${String(file).padStart(2, '0')}.sql`, parts.join('\n'));
  }

  // Models: ten folders (layers); layer 0 reads the raw table, later layers ref earlier ones.
  write(
    'models/sources.yml',
    [
      'version: 2',
      'sources:',
      '  - name: couchdb',
      "    schema: \"{{ env_var('POSTGRES_SCHEMA', 'v1') }}\"",
      '    tables:',
      "      - name: \"{{ env_var('POSTGRES_TABLE', 'couchdb') }}\"",
      '',
    ].join('\n'),
  );
  const perFolder = Math.ceil(models / folders);
  const names: string[][] = Array.from({ length: folders }, () => []);
  for (let m = 0; m < models; m++) {
    const layer = Math.min(folders - 1, Math.floor(m / perFolder));
    const name = `l${layer}_model_${m}`;
    names[layer]!.push(name);
    const fields = [0, 1, 2].map((j) => `field_${(m * 3 + j) % rootMacros}`);
    const from =
      layer === 0
        ? `{{ source('couchdb', env_var('POSTGRES_TABLE', 'couchdb')) }} AS src`
        : `{{ ref('${names[layer - 1]![m % names[layer - 1]!.length]}') }} AS src`;
    const join =
      layer > 1
        ? `LEFT JOIN {{ ref('${names[layer - 2]![(m * 7) % names[layer - 2]!.length]}') }} AS other ON other._id = src._id`
        : '';
    write(
      `models/layer_${layer}/${name}.sql`,
      [
        `{{ config(materialized='view', tags=['m${m % 5}']) }}`,
        '',
        `{%- set cols = ['a', 'b', 'c', 'd'] %}`,
        'SELECT',
        '  src._id,',
        '  src.doc,',
        ...fields.map((f, j) => `  {{ ${f}('src.doc', 'fields.part_${j}.value', 'f${j}') }},`),
        `  {% for c in cols %}src.doc ->> '{{ c }}' AS col_{{ c }}{% if not loop.last %},{% endif %}`,
        '  {% endfor %}',
        `FROM ${from}`,
        join,
        `WHERE {{ big_utils.util_${m % utils}("src.doc ->> 'type'", 'text', "'none'") }} IS NOT NULL`,
        '',
      ].join('\n'),
    );
  }
  for (let layer = 0; layer < folders; layer++) {
    const lines = ['version: 2', 'models:'];
    for (const name of names[layer]!)
      lines.push(
        `  - name: ${name}`,
        `    description: "Synthetic model ${name} of layer ${layer}."`,
        '    columns:',
        '      - name: _id',
        '        description: "The document id."',
        '        data_tests: [not_null]',
        '      - name: col_a',
        '        description: "A text field."',
      );
    write(`models/layer_${layer}/schema.yml`, `${lines.join('\n')}\n`);
  }
  return dir;
}
