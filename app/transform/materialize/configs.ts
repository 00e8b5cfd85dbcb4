import { quoteIdent, type Relation } from '../context/relation';
import { queryError } from './pg-session';
import type { MaterializeInput, MaterializeOutput } from './types';

async function exec(i: MaterializeInput, out: MaterializeOutput, sql: string): Promise<void> {
  out.statements.push(sql);
  try {
    await i.session.script(sql);
  } catch (error) {
    throw queryError(error, { model: i.model, file: i.file, sql });
  }
}

/**
 * Model configs dbt-postgres applies around the build: `sql_header` (emitted before the
 * create statement, in the same batch), `grants` (GRANT after the build; on an incremental run
 * the grants no longer configured are revoked, as dbt's should_revoke does — a rebuilt table or
 * view starts with none) and `persist_docs` (COMMENT ON the relation and its documented columns,
 * after the grants).
 */
export function sqlHeader(i: Pick<MaterializeInput, 'config'>): string {
  const h = i.config.sql_header;
  return typeof h === 'string' && h.trim() ? `${h}\n` : '';
}

function grantConfig(config: Record<string, unknown>): Map<string, string[]> {
  const g = config.grants;
  const out = new Map<string, string[]>();
  if (!g || typeof g !== 'object' || Array.isArray(g)) return out;
  for (const [privilege, who] of Object.entries(g as Record<string, unknown>)) {
    const list = Array.isArray(who) ? who.map(String) : typeof who === 'string' ? [who] : [];
    out.set(privilege.toLowerCase(), list.map((x) => x.trim()).filter(Boolean));
  }
  return out;
}

export async function applyGrants(i: MaterializeInput, out: MaterializeOutput, relation: Relation): Promise<void> {
  const wanted = grantConfig(i.config);
  if (!wanted.size) return;
  // dbt: revoke only when the relation existed and was not rebuilt (incremental, not a full refresh).
  const shouldRevoke =
    i.existing !== null && i.materialized === 'incremental' && !i.fullRefresh && i.existing.type === 'table';
  const current = new Map<string, Set<string>>();
  if (shouldRevoke && relation.schema) {
    const r = await i.session.query(
      `select grantee, privilege_type from information_schema.role_table_grants where grantor = current_role and grantee != current_role and table_schema = $1 and table_name = $2`,
      [relation.schema, relation.identifier],
    );
    for (const row of r.rows) {
      const p = String(row.privilege_type).toLowerCase();
      if (!current.has(p)) current.set(p, new Set());
      current.get(p)!.add(String(row.grantee));
    }
  }
  const statements: string[] = [];
  for (const [privilege, had] of current) {
    const keep = new Set(wanted.get(privilege) ?? []);
    const revoke = [...had].filter((g) => !keep.has(g));
    // dbt revokes only privileges the config names (an unnamed privilege is left alone).
    if (revoke.length && wanted.has(privilege))
      statements.push(`revoke ${privilege} on ${relation.render()} from ${revoke.join(', ')}`);
  }
  for (const [privilege, grantees] of wanted) {
    const missing = grantees.filter((g) => !current.get(privilege)?.has(g));
    if (missing.length) statements.push(`grant ${privilege} on ${relation.render()} to ${missing.join(', ')}`);
  }
  if (statements.length) await exec(i, out, `${statements.join(';\n')};`);
}

function persistConfig(config: Record<string, unknown>): { relation: boolean; columns: boolean } {
  const p = config.persist_docs;
  if (!p || typeof p !== 'object') return { relation: false, columns: false };
  const o = p as Record<string, unknown>;
  return { relation: o.relation === true, columns: o.columns === true };
}

/** dbt-postgres's comment literal: a dollar-quoted block. */
function commentLiteral(text: string): string {
  return `$dbt_comment_literal_block$${text}$dbt_comment_literal_block$`;
}

export async function persistDocs(i: MaterializeInput, out: MaterializeOutput, relation: Relation): Promise<void> {
  const want = persistConfig(i.config);
  if (!want.relation && !want.columns) return;
  const kind =
    relation.type === 'view' ? 'view' : relation.type === 'materialized_view' ? 'materialized view' : 'table';
  const statements: string[] = [];
  if (want.relation && i.description)
    statements.push(`comment on ${kind} ${relation.render()} is ${commentLiteral(i.description)}`);
  if (want.columns) {
    const r = await i.session.query(
      `select attname from pg_catalog.pg_attribute where attrelid = to_regclass($1) and attnum > 0 and not attisdropped`,
      [relation.qualified],
    );
    const existing = new Set(r.rows.map((x) => String(x.attname)));
    for (const c of i.columns) {
      if (!c.description || !existing.has(c.name)) continue;
      statements.push(
        `comment on column ${relation.render()}.${quoteIdent(c.name)} is ${commentLiteral(c.description)}`,
      );
    }
  }
  if (statements.length) await exec(i, out, `${statements.join(';\n')};`);
}
