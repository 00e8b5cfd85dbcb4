import type { SelectorDef } from './types';

/** `selectors.yml`: named selection definitions (resolved by graph/select.ts). */
export function parseSelectors(doc: unknown): SelectorDef[] {
  const list =
    doc && typeof doc === 'object' && Array.isArray((doc as { selectors?: unknown }).selectors)
      ? (doc as { selectors: unknown[] }).selectors
      : [];
  const out: SelectorDef[] = [];
  for (const s of list) {
    if (!s || typeof s !== 'object') continue;
    const r = s as Record<string, unknown>;
    if (typeof r.name !== 'string') continue;
    out.push({
      name: r.name,
      description: typeof r.description === 'string' ? r.description : '',
      definition: r.definition ?? null,
      isDefault: r.default === true,
    });
  }
  return out;
}
