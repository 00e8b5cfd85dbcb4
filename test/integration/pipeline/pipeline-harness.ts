import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { ModelRunResult } from '../../../app/contract/dto';
import { silentLogger } from '../../../app/core/logger';
import { runTransform, type TransformOutcome } from '../../../app/transform';
import { createTestDatabase } from '../../support/postgres';
import { createRawTable } from './raw-fixture';

/** The eleven CHT Pipeline v2 tables the bundled project builds, in build order. */
export const PIPELINE_TABLES = [
  'document_metadata',
  'contact',
  'contact_type',
  'person',
  'place',
  'patient',
  'data_record',
  'user',
  'feedback',
  'telemetry',
  'telemetry_devices',
] as const;
export type PipelineTable = (typeof PIPELINE_TABLES)[number];

export function keyOf(table: string): string {
  if (table === 'contact_type') return 'id';
  if (table === 'user') return 'user_id';
  return 'uuid';
}

export interface PipelineDb {
  name: string;
  pool: pg.Pool;
  /** Runs the bundled project with our engine; asserts every model succeeded. */
  run(o?: { fullRefresh?: boolean; vars?: Record<string, unknown> }): Promise<ModelRunResult[]>;
  /** Runs and returns the outcome as is (for tests that look at failures). */
  runRaw(o?: { fullRefresh?: boolean; vars?: Record<string, unknown>; select?: string[] }): Promise<TransformOutcome>;
  /** A table's rows as PostgreSQL's row_to_json prints them under TimeZone UTC, ordered by key. */
  rows(table: string): Promise<Record<string, unknown>[]>;
  /** One row by its key, printed like rows(); null when there is none. */
  row(table: string, key: string): Promise<Record<string, unknown> | null>;
  close(): Promise<void>;
}

/** A fresh database with cht-sync's raw table `v1.couchdb`. */
export async function createPipelineDb(prefix: string): Promise<PipelineDb> {
  const db = await createTestDatabase(prefix);
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  await createRawTable(pool);
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'cht-pipeline-cache-'));
  const runRaw: PipelineDb['runRaw'] = (o = {}) =>
    runTransform({
      project: { kind: 'bundled' },
      cacheDir,
      pool,
      database: db.name,
      schema: 'v1',
      table: 'couchdb',
      threads: 2,
      logger: silentLogger,
      ...(o.fullRefresh ? { fullRefresh: true } : {}),
      ...(o.vars ? { vars: o.vars } : {}),
      ...(o.select ? { select: o.select } : {}),
    });
  // row_to_json prints timestamptz in the session's zone: read under UTC, as the expected files were.
  const utcQuery = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> => {
    const client = await pool.connect();
    try {
      await client.query("SET TimeZone = 'UTC'");
      return (await client.query<T>(sql, params)).rows;
    } finally {
      client.release();
    }
  };
  return {
    name: db.name,
    pool,
    runRaw,
    async run(o = {}) {
      const { result } = await runRaw(o);
      const failed = result.models.filter((m) => m.status !== 'success');
      assert.deepEqual(
        failed.map((m) => `${m.model}: ${m.status} ${m.error?.message ?? m.skippedBecause ?? ''}`),
        [],
        `every model of the bundled pipeline must succeed (warnings: ${result.warnings.join(' | ')})`,
      );
      assert.equal(result.outcome, 'done');
      assert.deepEqual(new Set(result.models.map((m) => m.model)), new Set(PIPELINE_TABLES));
      return result.models;
    },
    async rows(table) {
      const key = keyOf(table);
      const r = await utcQuery<{ rows: Record<string, unknown>[] }>(
        `SELECT COALESCE(json_agg(row_to_json(x) ORDER BY x."${key}"), '[]') AS rows FROM "v1"."${table}" x`,
      );
      return r[0]?.rows ?? [];
    },
    async row(table, id) {
      const r = await utcQuery<{ j: Record<string, unknown> }>(
        `SELECT row_to_json(x) AS j FROM "v1"."${table}" x WHERE x."${keyOf(table)}" = $1`,
        [id],
      );
      return r[0]?.j ?? null;
    },
    async close() {
      await pool.end();
      rmSync(cacheDir, { recursive: true, force: true });
      await db.drop();
    },
  };
}

const EXPECTED_DIR = path.join(__dirname, 'expected');

/** Expected rows, produced by real dbt on resources/pipeline (see raw-fixture.ts). */
export function expectedRows(table: string, stage: 'first-build' | 'after-changes'): Record<string, unknown>[] {
  const dir = stage === 'first-build' ? EXPECTED_DIR : path.join(EXPECTED_DIR, 'after-changes');
  return JSON.parse(readFileSync(path.join(dir, `${table}.json`), 'utf8')) as Record<string, unknown>[];
}

export interface TableSchema {
  columns: { name: string; type: string }[];
  constraints: string[];
  indexes: string[];
}

export function expectedSchema(): Record<string, TableSchema> {
  return JSON.parse(readFileSync(path.join(EXPECTED_DIR, '_schema.json'), 'utf8')) as Record<string, TableSchema>;
}

/** Columns (order and type), constraints and index shapes (names aside) of a built table. */
export async function tableSchema(pool: pg.Pool, table: string): Promise<TableSchema> {
  const cols = await pool.query<{ name: string; type: string }>(
    `SELECT column_name AS name, data_type AS type FROM information_schema.columns
     WHERE table_schema = 'v1' AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  const cons = await pool.query<{ def: string }>(
    `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = format('%I.%I', 'v1', $1::text)::regclass`,
    [table],
  );
  const idx = await pool.query<{ def: string }>(
    `SELECT regexp_replace(indexdef, '^CREATE (UNIQUE )?INDEX \\S+ ON \\S+ ', '\\1') AS def FROM pg_indexes
     WHERE schemaname = 'v1' AND tablename = $1`,
    [table],
  );
  return {
    columns: cols.rows,
    constraints: cons.rows.map((r) => r.def).sort(),
    indexes: idx.rows.map((r) => r.def).sort(),
  };
}
