/**
 * The closest existing name to a mistyped one: `medic_sentinel` → `medic-sentinel`.
 * Names that differ only in case or in `-`/`_`/space are matched first; then the
 * smallest edit distance, if small for the name's length.
 */
export function nearMiss(wanted: string, existing: readonly string[]): string | null {
  const normal = normalise(wanted);
  const same = existing.find((name) => normalise(name) === normal);
  if (same !== undefined) return same;
  let best: { name: string; distance: number } | null = null;
  for (const name of existing) {
    const distance = levenshtein(normal, normalise(name));
    if (!best || distance < best.distance) best = { name, distance };
  }
  if (!best) return null;
  const limit = Math.max(1, Math.min(3, Math.floor(wanted.length / 4)));
  return best.distance <= limit ? best.name : null;
}

function normalise(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[-_\s]+/g, '-');
}

export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}
