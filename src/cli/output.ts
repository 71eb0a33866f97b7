/** How the CLI prints: aligned text tables for people, CSV and JSON for scripts. */

/** A text table: the first `leftColumns` left-aligned (names), the rest right-aligned (numbers). */
export function table(header: string[], rows: string[][], leftColumns = 1): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const render = (cells: string[]) =>
    cells.map((cell, column) => (column < leftColumns ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ').trimEnd();
  return [render(header), widths.map((width) => '─'.repeat(width)).join('  '), ...rows.map(render)].join('\n') + '\n';
}

export function csv(header: string[], rows: string[][]): string {
  const field = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
  return [header, ...rows].map((row) => row.map(field).join(',')).join('\n') + '\n';
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** Minor units in the currency's major unit: 4900 usd → "49.00 USD". */
export function money(amount: number, currency: string): string {
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() }).resolvedOptions().maximumFractionDigits ?? 2;
  return `${(amount / 10 ** digits).toFixed(digits)} ${currency.toUpperCase()}`;
}

/**
 * `text` with the password of every URL in it replaced by `***` (`postgres://app:***@db/app`):
 * what the CLI prints ends up in terminals, CI logs and support tickets. The placeholder of a
 * usage hint (`user:password@host`) stays as it is.
 */
export function maskPasswords(text: string): string {
  // Up to the last `@` of a token, so a password holding a raw `@` or `/` is masked whole.
  return text.replace(/(\/\/[^\s/:@'"]*:)(?!password@)[^\s'"]*@/g, '$1***@');
}

/** A URL given as a whole value, parsable or not (a password may hold spaces): its password masked. */
export function maskUrl(value: string): string {
  return value.replace(/^([^:/?#\s]+:\/\/[^/:@]*:).*@/s, '$1***@');
}
