import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigurationError } from '../kernel/errors.js';

/**
 * Signed, expiring links to a partner's portal. The token carries the partner id, the partner's
 * portal link version and the expiry in the clear and an HMAC-SHA256 of them under the merchant's
 * secret: a link cannot be stretched or pointed at another partner without the secret, and
 * `revokePortalLinks` (the version moved on) refuses every link signed before.
 */
export interface PortalLinkOptions {
  /** Secret of at least 32 characters the links are signed with. Default `$STRIPE_ATTRIBUTION_PORTAL_SECRET`. */
  secret?: string;
  /** The portal page's absolute URL: where the dashboard is mounted, plus `/portal`. */
  url?: string;
  /** Default lifetime of a link, in seconds. Default 7 days. */
  expiresIn?: number;
  /**
   * Your site's address, where partner links point (`https://shop.example/`): the portal and the
   * dashboard then show each code as a link to share, `https://shop.example/?via=alice`.
   */
  siteUrl?: string;
}

export interface ResolvedPortalOptions {
  secret: string | undefined;
  url: string | undefined;
  expiresIn: number;
  siteUrl: string | undefined;
}

export function resolvePortalOptions(options: PortalLinkOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedPortalOptions {
  const secret = options.secret ?? env.STRIPE_ATTRIBUTION_PORTAL_SECRET;
  if (secret !== undefined && secret.length < 32) throw new ConfigurationError('portal.secret must be at least 32 characters: it signs partner portal links');
  const expiresIn = options.expiresIn ?? 7 * 86_400;
  if (!(expiresIn > 0)) throw new ConfigurationError('portal.expiresIn must be a positive number of seconds');
  if (options.url !== undefined) new URL(options.url); // a typo fails at boot
  if (options.siteUrl !== undefined && !/^https?:$/.test(new URL(options.siteUrl).protocol)) throw new ConfigurationError('portal.siteUrl must be an http(s) address, such as https://shop.example/');
  return { secret, url: options.url, expiresIn, siteUrl: options.siteUrl };
}

/** The link a partner shares for `code`: on `siteUrl` when configured, else just its query (`?via=alice`). */
export function shareLink(siteUrl: string | undefined, param: string, code: string): string {
  if (!siteUrl) return `?${new URLSearchParams({ [param]: code })}`;
  const url = new URL(siteUrl);
  url.searchParams.set(param, code);
  return url.href;
}

function signature(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(`portal:${payload}`).digest();
}

export function portalToken(secret: string, partnerId: string, version: number, expiresAt: Date): string {
  const payload = `${partnerId}.${version}.${Math.floor(expiresAt.getTime() / 1000)}`;
  return `${payload}.${signature(secret, payload).toString('base64url')}`;
}

/**
 * The partner and link version a token was issued for, or why it is refused. A token from before
 * link versions (`partner.expiry.mac`) is version 0.
 */
export function verifyPortalToken(secret: string, token: string, now: Date): { partnerId: string; version: number } | { refused: 'forged' | 'expired' } {
  const parts = token.split('.');
  if (parts.length !== 3 && parts.length !== 4) return { refused: 'forged' };
  const mac = parts.pop()!;
  const expected = signature(secret, parts.join('.'));
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { refused: 'forged' };
  const [partnerId, version, expires] = parts.length === 3 ? (parts as [string, string, string]) : [parts[0]!, '0', parts[1]!];
  if (!/^\d+$/.test(version)) return { refused: 'forged' };
  if (!/^\d+$/.test(expires) || Number(expires) * 1000 <= now.getTime()) return { refused: 'expired' };
  return { partnerId, version: Number(version) };
}

export function portalUrl(options: ResolvedPortalOptions, partnerId: string, version: number, now: Date, expiresIn = options.expiresIn): string {
  if (!options.secret || !options.url) {
    throw new ConfigurationError('Partner portal links need portal.secret (32+ random characters) and portal.url (where the dashboard is mounted, plus /portal)');
  }
  if (!(expiresIn > 0)) throw new ConfigurationError('expiresIn must be a positive number of seconds');
  const url = new URL(options.url);
  url.searchParams.set('token', portalToken(options.secret, partnerId, version, new Date(now.getTime() + expiresIn * 1000)));
  return url.href;
}
