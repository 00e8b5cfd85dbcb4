/**
 * Ephemeral models are inlined as CTEs named `__dbt__cte__<name>`, as dbt does: prepended to
 * the model's own `with` when it has one, otherwise as a new `with` clause.
 */
export function injectCtes(sql: string, ctes: { name: string; sql: string }[]): string {
  if (!ctes.length) return sql;
  // dbt writes each CTE as " <name> as (\n<sql>\n)" (leading space) and joins them with ", ".
  const defs = ctes.map((c) => ` __dbt__cte__${c.name} as (\n${c.sql}\n)`).join(', ');
  // Skip leading whitespace and SQL comments to find a leading WITH.
  const lead = /^(\s*(?:--[^\n]*\n|\/\*[\s\S]*?\*\/)?)*/.exec(sql)?.[0] ?? '';
  const rest = sql.slice(lead.length);
  const withMatch = /^with(\s+recursive)?\s/i.exec(rest);
  if (withMatch) return `${lead}${withMatch[0]}${defs}, ${rest.slice(withMatch[0].length)}`;
  return `${lead}with${defs}\n${rest}`;
}
