import { describe, expect, it, vi } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import type { AttributionOptions } from '../../src/core/options/options.js';
import type { AttributionRequest } from '../../src/core/clicks/request.js';
import type { Storage } from '../../src/core/storage/types.js';
import { backends, freshStorage, whenDone } from '../support/backends.js';

const BROWSER = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';
const [pglite] = backends();

function visit(url: string, cookie?: string): AttributionRequest {
  return { method: 'GET', url, headers: { 'user-agent': BROWSER, ...(cookie ? { cookie } : {}) }, remoteAddress: '198.51.100.7' };
}

/** A real storage whose click inserts fail while `down` is set, as when the database is unreachable. */
function flaky(storage: Storage) {
  const state = { down: false, batches: 0 };
  const wrapped = new Proxy(storage, {
    get(target, property, receiver) {
      if (property === 'insertClicks') {
        return async (clicks: Parameters<Storage['insertClicks']>[0]) => {
          if (state.down) throw new Error('connection refused');
          state.batches += 1;
          return target.insertClicks(clicks);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { storage: wrapped, state };
}

async function batched(options: AttributionOptions = {}) {
  let now = new Date('2026-05-01T10:00:00Z');
  const real = await freshStorage(pglite!);
  const { storage, state } = flaky(real);
  const errors: string[] = [];
  const attribution = createAttribution({
    database: storage,
    clickWrites: 'batched',
    clicks: { ipSalt: 'pepper' },
    clock: () => now,
    onError: (error, during) => errors.push(`${during}: ${(error as Error).message}`),
    ...options,
  });
  // Its flush timer must not outlive the test: the schema goes to the worker's next test.
  whenDone(() => attribution.close().catch(() => {}));
  const alice = await attribution.partners.create({ name: 'Alice', code: 'alice' });
  return { attribution, real, state, errors, alice, advance: (ms: number) => void (now = new Date(now.getTime() + ms)) };
}

describe("clickWrites: 'batched'", () => {
  it('answers a referral visit from the buffer; the same process’s lead finds the click', async () => {
    const { attribution, real, state, alice } = await batched({ clickBatch: { flushIntervalMs: 60_000 } });
    const first = await attribution.captureClick(visit('https://shop.example/?via=alice'));
    expect(first.setCookie).toMatch(/^sa_click=clk_/);
    expect(await real.getClick(first.clickId!)).toBeUndefined();
    // A reload through the same link is the same click, found in the buffer.
    const reload = await attribution.captureClick(visit('https://shop.example/?via=alice', `sa_click=${first.clickId}`));
    expect(reload).toEqual({ clickId: first.clickId, programId: 'default' });

    const lead = await attribution.trackLead({ customerExternalId: 'user_1', clickId: first.clickId! });
    expect(lead.attributed).toBe(true);
    expect(lead.customer.partnerId).toBe(alice.id);
    expect(await real.getClick(first.clickId!)).toMatchObject({ partnerId: alice.id, linkCode: 'alice' });
    expect(state.batches).toBe(1);
  });

  it('writes on the interval, and at once when a batch is full, one statement per batch', async () => {
    const timed = await batched({ clickBatch: { flushIntervalMs: 30 } });
    const { clickId } = await timed.attribution.captureClick(visit('https://shop.example/?via=alice'));
    await vi.waitFor(async () => expect(await timed.real.getClick(clickId!)).toBeDefined(), { timeout: 5000, interval: 20 });

    const full = await batched({ clickBatch: { flushIntervalMs: 60_000, maxBatch: 3 } });
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await full.attribution.captureClick(visit(`https://shop.example/p/${i}?via=alice`))).clickId!);
    await vi.waitFor(async () => expect(await full.real.getClick(ids[2]!)).toBeDefined(), { timeout: 5000, interval: 20 });
    for (const id of ids) expect(await full.real.getClick(id)).toBeDefined();
    expect(full.state.batches).toBe(1);
  });

  it('keeps clicks while the database is away, refuses new ones past maxBuffered, and writes them when it is back', async () => {
    const { attribution, real, state, errors } = await batched({ clickBatch: { flushIntervalMs: 60_000, maxBuffered: 2 } });
    state.down = true;
    const kept = [
      (await attribution.captureClick(visit('https://shop.example/a?via=alice'))).clickId!,
      (await attribution.captureClick(visit('https://shop.example/b?via=alice'))).clickId!,
    ];
    await attribution.flushClicks();
    expect(errors).toEqual(['writing 2 buffered clicks: connection refused']);
    // Refused: reported, and the visit goes on without a new cookie.
    expect(await attribution.captureClick(visit('https://shop.example/c?via=alice'))).toEqual({ clickId: null });
    expect(errors[1]).toMatch(/^click capture: The click buffer is full \(2 clicks/);

    state.down = false;
    await attribution.close();
    for (const id of kept) expect(await real.getClick(id)).toBeDefined();
    expect(state.batches).toBe(1);
  });

  it('remembers a link for linkCacheSeconds: a disabled partner stops recording clicks after it', async () => {
    const { attribution, alice, advance } = await batched({ clickBatch: { flushIntervalMs: 60_000, linkCacheSeconds: 30 } });
    expect((await attribution.captureClick(visit('https://shop.example/?via=alice'))).setCookie).toBeDefined();
    await attribution.partners.disable(alice.id);
    advance(10_000);
    expect((await attribution.captureClick(visit('https://shop.example/x?via=alice'))).setCookie).toBeDefined();
    advance(25_000);
    expect(await attribution.captureClick(visit('https://shop.example/y?via=alice'))).toEqual({ clickId: null });
  });

  it('refuses settings that cannot work', () => {
    expect(() => createAttribution({ clickWrites: 'later' as 'sync' })).toThrow(/clickWrites must be 'sync' or 'batched'/);
    expect(() => createAttribution({ clickWrites: 'batched', clickBatch: { maxBatch: 0 } })).toThrow(/clickBatch.maxBatch must be a positive number/);
  });
});
