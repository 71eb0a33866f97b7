import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { ConfigurationError } from '../../src/core/kernel/errors.js';
import { portalToken, verifyPortalToken } from '../../src/core/partners/portal-links.js';
import { embeddedBackend, freshStorage } from '../support/backends.js';

const SECRET = 'a-portal-secret-long-enough-0123456789';
const NOW = new Date('2026-05-01T10:00:00Z');

describe('partner portal links', () => {
  it('carry the partner and their link version until they expire, and refuse any change', () => {
    const token = portalToken(SECRET, 'ptn_alice', 2, new Date(NOW.getTime() + 60_000));
    expect(verifyPortalToken(SECRET, token, NOW)).toEqual({ partnerId: 'ptn_alice', version: 2 });
    expect(verifyPortalToken(SECRET, token, new Date(NOW.getTime() + 60_000))).toEqual({ refused: 'expired' });
    const [partner, version, expires, mac] = token.split('.') as [string, string, string, string];
    expect(verifyPortalToken(SECRET, `ptn_bob.${version}.${expires}.${mac}`, NOW)).toEqual({ refused: 'forged' });
    expect(verifyPortalToken(SECRET, `${partner}.3.${expires}.${mac}`, NOW)).toEqual({ refused: 'forged' });
    expect(verifyPortalToken(SECRET, `${partner}.${version}.${Number(expires) + 3600}.${mac}`, NOW)).toEqual({ refused: 'forged' });
    expect(verifyPortalToken('another-secret-just-as-long-0123456789', token, NOW)).toEqual({ refused: 'forged' });
    expect(verifyPortalToken(SECRET, 'garbage', NOW)).toEqual({ refused: 'forged' });
  });

  it('a link signed before link versions counts as version 0', () => {
    const payload = `ptn_alice.${NOW.getTime() / 1000 + 60}`;
    const legacy = `${payload}.${createHmac('sha256', SECRET).update(`portal:${payload}`).digest('base64url')}`;
    expect(verifyPortalToken(SECRET, legacy, NOW)).toEqual({ partnerId: 'ptn_alice', version: 0 });
  });

  it('portalUrl signs with the configured secret, lifetime and the partner’s link version, and needs both settings', async () => {
    const attribution = createAttribution({ database: await freshStorage(embeddedBackend()), clock: () => NOW, portal: { secret: SECRET, url: 'https://shop.example/admin/attribution/portal' } });
    const alice = await attribution.partners.create({ name: 'Alice', code: 'alice' });
    const url = new URL(await attribution.partners.portalUrl(alice.id, { expiresIn: 120 }));
    expect(url.origin + url.pathname).toBe('https://shop.example/admin/attribution/portal');
    const token = url.searchParams.get('token')!;
    expect(token.split('.')[2]).toBe(String(NOW.getTime() / 1000 + 120));
    expect(verifyPortalToken(SECRET, token, NOW)).toEqual({ partnerId: alice.id, version: 0 });
    await attribution.partners.revokePortalLinks(alice.id);
    expect(verifyPortalToken(SECRET, new URL(await attribution.partners.portalUrl(alice.id)).searchParams.get('token')!, NOW)).toMatchObject({ version: 1 });
    await expect(attribution.partners.portalUrl('ptn_nobody')).rejects.toThrow(/No partner/);
    await attribution.close();

    await expect(createAttribution({ database: 'memory://' }).partners.portalUrl('ptn_alice')).rejects.toThrow(ConfigurationError);
    expect(() => createAttribution({ database: 'memory://', portal: { secret: 'short', url: 'https://shop.example/p' } })).toThrow(/at least 32 characters/);
  });
});
