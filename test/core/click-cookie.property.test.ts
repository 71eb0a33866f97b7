import { parse as parseCookie } from 'cookie';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { isClickId } from '../../src/core/clicks/click-id.js';
import type { AttributionRequest } from '../../src/core/clicks/request.js';
import type { Storage } from '../../src/core/storage/types.js';

// A page view without a referral is answered from the cookie alone: any storage call fails the test.
const untouchable = new Proxy({} as Storage, {
  get: (_target, property) => {
    if (property === 'then') return undefined;
    throw new Error(`a page view without a referral touched storage (${String(property)})`);
  },
});
const attribution = createAttribution({ database: untouchable, clicks: { ipSalt: 'pepper' } });

function pageView(cookie: string): AttributionRequest {
  return { method: 'GET', url: 'http://shop.example/pricing', headers: { 'user-agent': 'Mozilla/5.0', cookie } };
}

describe('the click cookie among the site’s other cookies', () => {
  it('is read exactly as the cookie parser reads it, whatever sits around it (property-based)', async () => {
    const id = 'clk_AbCdEfGhIjKlMnOpQrSt_-';
    // Names and values that sit close to ours: a longer name, our pair inside another value, blanks the
    // parser trims (space, tab) and ones it keeps, quotes, percent-encoding (names are not decoded),
    // an id of the wrong length, a pair without `=`, empty pairs.
    const name = fc.constantFrom('sa_click', 'xsa_click', 'sa_click2', ' sa_click', 'sa_click ', '\tsa_click', 'sa_click\t', '\nsa_click', '\u00a0sa_click', '%73a_click', '_ga', '');
    const value = fc.constantFrom(id, `"${id}"`, ` ${id} `, `\t${id}`, `${id.slice(0, -1)}%2D`, id.slice(0, -1), `sa_click=${id}`, 'clk_', 'GA1.1.123', '');
    const pair = fc.oneof(fc.tuple(name, value).map(([n, v]) => `${n}=${v}`), name);
    await fc.assert(
      fc.asyncProperty(fc.array(pair, { maxLength: 6 }), fc.constantFrom(';', '; ', ';  ', ';\t'), async (pairs, separator) => {
        const header = pairs.join(separator);
        const expected = parseCookie(header).sa_click;
        const { clickId } = await attribution.captureClick(pageView(header));
        expect(clickId, JSON.stringify(header)).toBe(isClickId(expected) ? expected : null);
      }),
      { numRuns: 1000 },
    );
  });

  it('costs time in proportion to the header, however often it names the cookie', async () => {
    const id = 'clk_AbCdEfGhIjKlMnOpQrSt_-';
    // A visitor controls this header: one long value naming the cookie over and over, then ours.
    // Read pair by pair this is a few hundred kilobytes of scanning; read mention by mention, seconds.
    const header = `x=${'sa_click'.repeat(40_000)}; sa_click=${id}`;
    const started = performance.now();
    const { clickId } = await attribution.captureClick(pageView(header));
    expect(clickId).toBe(id);
    expect(performance.now() - started).toBeLessThan(250);
  });
});
