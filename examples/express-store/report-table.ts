import type { ReportRow } from 'stripe-attribution';

/** Minor units as a price: 4900 usd → $49.00 (whole units for currencies without cents). */
export function money(amount: number, currency: string): string {
  const format = new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() });
  return format.format(amount / 10 ** format.resolvedOptions().maximumFractionDigits!);
}

/** The partner report as a text table: one line per partner, period and currency. */
export function reportTable(rows: readonly ReportRow[], partnerName: (id: string) => string): string {
  const header = ['Partner', 'Month', 'Clicks', 'Leads', 'Sales', 'Revenue', 'Refunded', 'Pending', 'Approved', 'Paid', 'Voided'];
  const lines = rows.flatMap((row) => {
    const month = row.period.toISOString().slice(0, 7);
    const currencies = Object.entries(row.currencies);
    if (currencies.length === 0) return [[partnerName(row.partnerId), month, String(row.clicks), String(row.leads), '0', '', '', '', '', '', '']];
    return currencies.map(([currency, totals]) => [
      partnerName(row.partnerId),
      month,
      String(row.clicks),
      String(row.leads),
      String(totals.sales),
      money(totals.revenue, currency),
      money(totals.refunded, currency),
      ...(['pending', 'approved', 'paid', 'voided'] as const).map((status) => money(totals.commissions[status] ?? 0, currency)),
    ]);
  });
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  // Names and months left-aligned, numbers right-aligned.
  const render = (cells: string[]) => cells.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [render(header), widths.map((width) => '─'.repeat(width)).join('  '), ...lines.map(render)].join('\n');
}
