import { describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { ConfigurationError } from '../../src/core/kernel/errors.js';
import { portalToken, verifyPortalToken } from '../../src/core/partners/portal-links.js';

const SECRET = 'a-portal-secret-long-enough-0123456789';
const NOW = new Date('2026-05-01T10:00:00Z');

describe('partner portal links', () => {
  it('carry the partner until they expire, and refuse any change', () => {
    const token = portalToken(SECRET, 'ptn_alice', new Date(NOW.getTime() + 60_000));
    expect(verifyPortalToken(SECRET, token, NOW)).toEqual({ partnerId: 'ptn_alice' });
    expect(verifyPortalToken(SECRET, token, new Date(NOW.getTime() + 60_000))).toEqual({ refused: 'expired' });
    const [partner, expires, mac] = token.split('.') as [string, string, string];
    expect(verifyPortalToken(SECRET, `ptn_bob.${expires}.${mac}`, NOW)).toEqual({ refused: 'forged' });
    expect(verifyPortalToken(SECRET, `${partner}.${Number(expires) + 3600}.${mac}`, NOW)).toEqual({ refused: 'forged' });
    expect(verifyPortalToken('another-secret-just-as-long-0123456789', token, NOW)).toEqual({ refused: 'forged' });
    expect(verifyPortalToken(SECRET, 'garbage', NOW)).toEqual({ refused: 'forged' });
  });

  it('portalUrl signs with the configured secret and lifetime, and needs both settings', () => {
    const attribution = createAttribution({ database: 'memory://', clock: () => NOW, portal: { secret: SECRET, url: 'https://shop.example/admin/attribution/portal' } });
    const url = new URL(attribution.partners.portalUrl('ptn_alice', { expiresIn: 120 }));
    expect(url.origin + url.pathname).toBe('https://shop.example/admin/attribution/portal');
    const token = url.searchParams.get('token')!;
    expect(token.split('.')[1]).toBe(String(NOW.getTime() / 1000 + 120));
    expect(verifyPortalToken(SECRET, token, NOW)).toEqual({ partnerId: 'ptn_alice' });

    expect(() => createAttribution({ database: 'memory://' }).partners.portalUrl('ptn_alice')).toThrow(ConfigurationError);
    expect(() => createAttribution({ database: 'memory://', portal: { secret: 'short', url: 'https://shop.example/p' } })).toThrow(/at least 32 characters/);
  });
});
