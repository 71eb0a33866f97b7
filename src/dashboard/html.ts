/** Escapes text for HTML content and attribute values. */
export function escape(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A tagged template whose interpolations are escaped unless already `Html`. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((value, index) => {
    out += render(value) + strings[index + 1]!;
  });
  return new Html(out);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escape(value);
}

/** Currencies Stripe counts in whole units (no minor unit). */
const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);

/** Minor units as a decimal string with the currency code, e.g. `120.50 USD`: never rounded, never added across currencies. */
export function money(amount: number, currency: string): string {
  if (ZERO_DECIMAL.has(currency)) return `${amount} ${currency.toUpperCase()}`;
  const abs = Math.abs(amount);
  return `${amount < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')} ${currency.toUpperCase()}`;
}

// High contrast (WCAG AA or better on every pair), visible focus, tables that scroll on a phone.
const CSS = `
:root{--fg:#111;--muted:#444;--bg:#fff;--line:#bbb;--accent:#0645ad;--ok:#0a5c2b;--warn:#7a4b00;--bad:#8b0000;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
body{margin:0;line-height:1.45}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,.scroll:focus-visible{outline:3px solid #111;outline-offset:2px}
input,select{font:inherit;padding:.3rem .4rem;border:1px solid var(--muted);border-radius:4px;max-width:100%;min-height:2.25rem;box-sizing:border-box}
nav a[aria-current]{font-weight:700}
header{background:#102a43;color:#fff;padding:.75rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:baseline}
header a{color:#fff}
header h1{font-size:1.15rem;margin:0}
main{padding:1rem;max-width:72rem;margin:0 auto}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border-bottom:1px solid var(--line);padding:.4rem .5rem;text-align:left;vertical-align:top}
td.n,th.n{text-align:right}td.n{white-space:nowrap}
.grid{display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr))}
figure{margin:0;border:1px solid var(--line);padding:.5rem;border-radius:4px}
figcaption{font-weight:600;margin-bottom:.25rem}
svg{max-width:100%;height:auto}
.status{font-weight:600}
.status-approved{color:var(--ok)}.status-pending{color:var(--warn)}.status-voided,.status-held{color:var(--bad)}
button{font:inherit;padding:.3rem .7rem;border:2px solid var(--accent);background:#fff;color:var(--accent);border-radius:4px;cursor:pointer;min-height:2.25rem}
button:hover{background:var(--accent);color:#fff}
form.inline{display:inline}
.notice{border-left:4px solid var(--ok);padding:.5rem .75rem;background:#eef7f0}
.legend{display:flex;gap:1rem;flex-wrap:wrap;font-size:.9rem;color:var(--muted)}
.muted{color:var(--muted)}
.problem{border-left:4px solid var(--bad);padding:.5rem .75rem;background:#fbeeee}
form.view{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-bottom:1rem}form.view p{margin:0;flex-basis:100%}
.mode{font-weight:700;padding:.1rem .5rem;border-radius:4px}.mode-live{background:#eef7f0;color:var(--ok)}.mode-test{background:#fff4e0;color:var(--warn)}
input,select,textarea{font:inherit;padding:.3rem;border:1px solid var(--muted);border-radius:4px;max-width:100%}
form.apply input,form.apply textarea{width:30rem}
input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid #111;outline-offset:1px}
`;

export function page(title: string, nav: Html | string, content: Html): string {
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title><style>${new Html(CSS)}</style></head><body><header><h1>${title}</h1>${nav}</header><main id="main">${content}</main></body></html>`.text}`;
}
