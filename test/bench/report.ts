import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** One section's figures: printed as a Markdown table (README-ready) and kept in test-results/bench.json. */
export interface BenchTable {
  title: string;
  columns: string[];
  rows: (string | number | null)[][];
  notes: string[];
}

export interface BenchSectionResult {
  section: string;
  tables: BenchTable[];
  /** Target checks: name → pass/fail with the figure. */
  checks: { name: string; pass: boolean; detail: string }[];
  data: Record<string, unknown>;
}

function cell(value: string | number | null): string {
  if (value === null) return '—';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return '—';
    if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
    return value.toFixed(Math.abs(value) >= 10 ? 1 : 2);
  }
  return value;
}

export function markdownTable(table: BenchTable): string {
  const lines = [
    `### ${table.title}`,
    '',
    `| ${table.columns.join(' | ')} |`,
    `|${table.columns.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
  ];
  for (const row of table.rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
  if (table.notes.length) lines.push('', ...table.notes.map((n) => `- ${n}`));
  return lines.join('\n');
}

export function printReport(results: BenchSectionResult[], meta: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const r of results) {
    for (const t of r.tables) parts.push(markdownTable(t));
    if (r.checks.length)
      parts.push(
        ['**Targets**', '', ...r.checks.map((c) => `- ${c.pass ? '✅' : '❌'} ${c.name}: ${c.detail}`)].join('\n'),
      );
  }
  const text = parts.join('\n\n');
  console.log(`\n${text}\n`);
  const dir = path.resolve('test-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'bench.json'), JSON.stringify({ meta, results }, null, 2));
  writeFileSync(path.join(dir, 'bench.md'), `${text}\n`);
  return text;
}
