/**
 * A forward-only schema step. Shipped migrations are never edited: a change is
 * a new file with the next number, added to the list in ./index.ts.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}
