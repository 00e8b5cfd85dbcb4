/**
 * RFC 4180 CSV: CRLF line ends, fields quoted when they hold a comma, quote, CR or
 * LF, quotes doubled. Text cells that a spreadsheet would run as a formula
 * (=, +, @, tab, CR, or - not starting a number) get a leading apostrophe: data
 * managers open these files in Excel (OWASP "CSV injection").
 */
export const CSV_BOM = '\uFEFF';

export function csvLine(values: readonly unknown[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text: string;
  if (typeof value === 'string') text = neutraliseFormula(value);
  else if (value instanceof Date) text = value.toISOString();
  else if (typeof value === 'object') text = JSON.stringify(value);
  else text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function neutraliseFormula(text: string): string {
  if (/^[=+@\t\r]/.test(text)) return `'${text}`;
  if (text.startsWith('-') && !/^-\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) return `'${text}`;
  return text;
}
