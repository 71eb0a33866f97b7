/**
 * Providers that deliver `a.b+tag@` to `ab@`: Gmail ignores dots and everything after `+`; the
 * others only the `+tag`. One person's addresses there normalise to one.
 */
const IGNORES_DOTS = new Set(['gmail.com', 'googlemail.com']);
const IGNORES_PLUS_TAGS = new Set([
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'icloud.com', 'me.com',
  'mac.com', 'fastmail.com', 'fastmail.fm', 'proton.me', 'protonmail.com', 'pm.me',
]);
const SAME_MAILBOX: Record<string, string> = { 'googlemail.com': 'gmail.com' };

/** The mailbox an address delivers to: lower case, and without the dots and `+tags` its provider ignores. */
export function normaliseEmail(email: string): string {
  const address = email.trim().toLowerCase();
  const at = address.lastIndexOf('@');
  if (at <= 0) return address;
  let local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (IGNORES_PLUS_TAGS.has(domain)) local = local.split('+')[0]!;
  if (IGNORES_DOTS.has(domain)) local = local.replaceAll('.', '');
  return `${local}@${SAME_MAILBOX[domain] ?? domain}`;
}

export function emailDomain(email: string): string | null {
  const at = email.lastIndexOf('@');
  return at > 0 ? email.slice(at + 1).trim().toLowerCase() : null;
}

interface DisposableDomains {
  exact: ReadonlySet<string>;
  /** Domains whose every subdomain is throwaway too. */
  wildcard: ReadonlySet<string>;
}

let loaded: Promise<DisposableDomains> | undefined;

/**
 * The `disposable-email-domains` registry list (a maintained community list, updated with the
 * package), read once per process and only when the rule is on.
 */
function disposableDomains(): Promise<DisposableDomains> {
  loaded ??= (async () => {
    // The `.js` entries: the package's main is a JSON file, which ESM imports only with an attribute.
    const [exact, wildcard] = await Promise.all([import('disposable-email-domains/index.js'), import('disposable-email-domains/wildcard.js')]);
    return { exact: new Set(exact.default), wildcard: new Set(wildcard.default) };
  })();
  loaded.catch(() => {
    loaded = undefined;
  });
  return loaded;
}

/** Whether the domain (or, for the list's wildcard entries, a parent of it) is a throwaway mail provider. */
export async function isDisposableDomain(domain: string): Promise<boolean> {
  const { exact, wildcard } = await disposableDomains();
  if (exact.has(domain)) return true;
  const parts = domain.split('.');
  for (let i = 1; i < parts.length - 1; i++) if (wildcard.has(parts.slice(i).join('.'))) return true;
  return wildcard.has(domain);
}
