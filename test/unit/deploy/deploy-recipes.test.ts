/**
 * The deployment recipes, checked without Helm or Docker (neither can be had here): the chart's
 * values against its JSON schema, every value a template uses defined, the service's environment
 * exactly the variables cht-sync's configuration reads, passwords only from secrets; compose
 * likewise; the Grafana dashboard asks only for metrics the service exposes.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { SyncMetrics } from '../../../app/engine/services/metrics-service';

const chart = path.resolve('resources/helm/cht-sync');
const values = YAML.parse(readFileSync(path.join(chart, 'values.yaml'), 'utf8')) as Record<string, unknown>;
const schema = JSON.parse(readFileSync(path.join(chart, 'values.schema.json'), 'utf8')) as Schema;
const templates = readdirSync(path.join(chart, 'templates')).map((f) => ({
  file: f,
  text: readFileSync(path.join(chart, 'templates', f), 'utf8'),
}));
const configSource = readFileSync(path.resolve('app/config/resolve-config.ts'), 'utf8');

interface Schema {
  type?: string | string[];
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  $ref?: string;
  definitions?: Record<string, Schema>;
}

/** The JSON-schema subset values.schema.json uses (draft-07 keywords Helm checks with). */
function validate(value: unknown, s: Schema, at = '$', root: Schema = s): string[] {
  if (s.$ref) return validate(value, root.definitions![s.$ref.replace('#/definitions/', '')]!, at, root);
  const errors: string[] = [];
  const kind = Array.isArray(value)
    ? 'array'
    : value === null
      ? 'null'
      : Number.isInteger(value)
        ? 'integer'
        : typeof value;
  if (s.type) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    if (!types.some((t) => t === kind || (t === 'number' && kind === 'integer')))
      return [`${at}: expected ${types.join('|')}, got ${kind}`];
  }
  if (s.enum && !s.enum.includes(value)) errors.push(`${at}: not one of ${s.enum.join(', ')}`);
  if (typeof value === 'string') {
    if (s.pattern && !new RegExp(s.pattern).test(value)) errors.push(`${at}: '${value}' does not match ${s.pattern}`);
    if (s.minLength !== undefined && value.length < s.minLength) errors.push(`${at}: shorter than ${s.minLength}`);
    if (s.maxLength !== undefined && value.length > s.maxLength) errors.push(`${at}: longer than ${s.maxLength}`);
  }
  if (typeof value === 'number') {
    if (s.minimum !== undefined && value < s.minimum) errors.push(`${at}: below ${s.minimum}`);
    if (s.maximum !== undefined && value > s.maximum) errors.push(`${at}: above ${s.maximum}`);
  }
  if (Array.isArray(value) && s.items)
    value.forEach((v, i) => errors.push(...validate(v, s.items!, `${at}[${i}]`, root)));
  if (kind === 'object') {
    const obj = value as Record<string, unknown>;
    for (const r of s.required ?? []) if (!(r in obj)) errors.push(`${at}: ${r} is required`);
    for (const [k, v] of Object.entries(obj)) {
      const sub = s.properties?.[k];
      if (sub) errors.push(...validate(v, sub, `${at}.${k}`, root));
      else if (s.additionalProperties === false) errors.push(`${at}: unknown key ${k}`);
      else if (typeof s.additionalProperties === 'object')
        errors.push(...validate(v, s.additionalProperties, `${at}.${k}`, root));
    }
  }
  return errors;
}

function hasPath(obj: unknown, keys: string[]): boolean {
  let cur = obj;
  for (const k of keys) {
    if (!cur || typeof cur !== 'object' || !(k in (cur as Record<string, unknown>))) return false;
    cur = (cur as Record<string, unknown>)[k];
  }
  return true;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('Helm chart (resources/helm/cht-sync)', () => {
  it('values.yaml satisfies values.schema.json, and the schema refuses what cht-sync would refuse', () => {
    assert.deepEqual(validate(values, schema), []);
    const bad = (at: string, wrong: unknown, expected: RegExp): void => {
      const v = clone(values);
      const keys = at.split('.');
      let cur = v as Record<string, unknown>;
      for (const k of keys.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
      cur[keys.at(-1)!] = wrong;
      const errors = validate(v, schema);
      assert.ok(
        errors.some((e) => expected.test(e)),
        `expected ${expected} in ${JSON.stringify(errors)}`,
      );
    };
    bad('couchdb.host', 'https://admin:pw@cht.example.org', /couchdb\.host/);
    bad('couchdb.port', 70000, /couchdb\.port: above/);
    bad('couchdb.passwrd', 'x', /unknown key passwrd/);
    bad('dbt.threadCount', 0, /threadCount: below/);
    bad('logLevel', 'verbose', /logLevel/);
    bad('persistence.size', '1GB', /persistence\.size/);
  });

  it('every value a template reads is defined in values.yaml, and every top-level value is read', () => {
    const used = new Set<string>();
    for (const t of templates) {
      for (const m of t.text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        const keys = m[1]!.slice(1).split('.');
        assert.ok(
          hasPath(values, keys),
          `${t.file} reads .Values.${keys.join('.')}, which values.yaml does not define`,
        );
        used.add(keys[0]!);
      }
    }
    for (const key of Object.keys(values))
      assert.ok(used.has(key), `values.yaml defines ${key}, which no template reads`);
  });

  it('template blocks are balanced (if/with/range/define … end)', () => {
    for (const t of templates) {
      const opens = [...t.text.matchAll(/\{\{-?\s*(if|with|range|define)\b/g)].length;
      const ends = [...t.text.matchAll(/\{\{-?\s*end\s*-?\}\}/g)].length;
      assert.equal(opens, ends, `${t.file}: ${opens} blocks opened, ${ends} ended`);
    }
  });

  it("the container's environment is cht-sync's own variables, each one the configuration reads; passwords only from secrets; probes on the health endpoints", () => {
    const deployment = templates.find((t) => t.file === 'deployment.yaml')!.text;
    const names = [...deployment.matchAll(/- name: ([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!);
    for (const name of [
      'COUCHDB_HOST',
      'COUCHDB_PORT',
      'COUCHDB_SECURE',
      'COUCHDB_USER',
      'COUCHDB_PASSWORD',
      'COUCHDB_DBS',
      'POSTGRES_HOST',
      'POSTGRES_PORT',
      'POSTGRES_USER',
      'POSTGRES_PASSWORD',
      'POSTGRES_DB',
      'POSTGRES_SCHEMA',
      'POSTGRES_TABLE',
      'CHT_PIPELINE_BRANCH_URL',
      'DBT_SELECTOR',
      'DBT_THREAD_COUNT',
      'DBT_BATCH_SIZE',
      'DBT_LOCAL_PATH',
      'DATAEMON_INTERVAL',
    ]) {
      assert.ok(names.includes(name), `the chart sets ${name}`);
    }
    const cli = ['app/cli/context.ts', 'app/cli/program.ts', 'app/cli/service.ts', 'app/config/default-data-dir.ts']
      .map((f) => readFileSync(path.resolve(f), 'utf8'))
      .join('\n');
    for (const name of new Set(names))
      assert.ok(
        configSource.includes(`env.${name}`) || cli.includes(`env.${name}`),
        `${name} is read by cht-sync's configuration`,
      );
    for (const secret of ['COUCHDB_PASSWORD', 'POSTGRES_PASSWORD']) {
      const block = deployment.slice(deployment.indexOf(`- name: ${secret}`)).split('- name:')[1]!;
      assert.match(block, /secretKeyRef/, `${secret} comes from a secret`);
    }
    assert.match(deployment, /livenessProbe:\s+httpGet:\s+path: \/healthz/);
    assert.match(deployment, /readinessProbe:\s+httpGet:\s+path: \/readyz/);
    assert.match(deployment, /args: \["run"/);
  });
});

describe('compose.yml and the Dockerfile (resources/docker)', () => {
  const compose = YAML.parse(readFileSync(path.resolve('resources/docker/compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { environment?: Record<string, unknown>; image?: string; stop_grace_period?: string }>;
  };
  it('PostgreSQL and one service per CHT instance, each with the same cht-sync variables, no password written in', () => {
    assert.ok(compose.services.postgres);
    const syncs = Object.entries(compose.services).filter(([name]) => name.startsWith('cht-sync'));
    assert.ok(syncs.length >= 2);
    const keys = syncs.map(([, s]) =>
      Object.keys(s.environment ?? {})
        .sort()
        .join(','),
    );
    assert.equal(new Set(keys).size, 1, 'every instance has the same variables');
    for (const [, s] of syncs) {
      for (const [k, v] of Object.entries(s.environment ?? {})) {
        assert.ok(configSource.includes(k), `${k} is read by cht-sync's configuration`);
        if (/PASSWORD/.test(k))
          assert.match(String(v), /^\$\{[A-Z_0-9]+(:\?[^}]*|:-)?\}$/, `${k} comes from the environment / .env`);
      }
      assert.ok(s.stop_grace_period);
    }
  });

  it('the Dockerfile runs the build steps, as a non-root user, with `cht-sync run` as its command', () => {
    const dockerfile = readFileSync(path.resolve('resources/docker/Dockerfile'), 'utf8');
    assert.match(dockerfile, /build-steps\.sh build/);
    assert.match(dockerfile, /build-steps\.sh stage/);
    assert.match(dockerfile, /^USER 10001/m);
    assert.match(dockerfile, /ENTRYPOINT \[.*"\/app\/dist\/cli\.cjs"\]/);
    assert.match(dockerfile, /^CMD \["run"\]/m);
  });
});

describe('Grafana dashboard (resources/helm/grafana)', () => {
  it('queries only metrics the service exposes', () => {
    const dashboard = JSON.parse(
      readFileSync(path.resolve('resources/helm/grafana/cht-sync-dashboard.json'), 'utf8'),
    ) as { panels: { title: string; targets: { expr: string }[] }[] };
    const exposed = new Set(
      [...new SyncMetrics('0').registry.expose().matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap((m) =>
        m[2] === 'histogram' ? [`${m[1]}_bucket`, `${m[1]}_sum`, `${m[1]}_count`] : [m[1]!],
      ),
    );
    let n = 0;
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        for (const m of target.expr.matchAll(/\b((?:cht_sync|process|nodejs)_[a-z_]+)\b/g)) {
          n++;
          assert.ok(exposed.has(m[1]!), `panel "${panel.title}" queries ${m[1]}, which the service does not expose`);
        }
      }
    }
    assert.ok(n >= 10);
  });
});
