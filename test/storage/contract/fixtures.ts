import type { NewSale, Storage } from '../../../src/core/storage/types.js';

/** What the storage contract tests share: a time, a sale, a partner with a click, a gate. */

export const at = new Date('2026-03-01T12:00:00Z');

export function sale(overrides: Partial<NewSale> = {}): NewSale {
  return { livemode: true, amount: 4900, currency: 'usd', occurredAt: at, ...overrides };
}

export async function partnerWithClick(storage: Storage) {
  const partner = await storage.insertPartner({ name: 'Alice', email: 'Alice@Example.com' });
  await storage.insertLink({ partnerId: partner.id, code: 'alice' });
  const click = await storage.insertClick({
    id: `clk_${Math.random().toString(36).slice(2)}`,
    partnerId: partner.id,
    linkCode: 'alice',
    landingUrl: 'https://shop.example/?via=alice',
    referrer: null,
    userAgent: 'Mozilla/5.0',
    ipHash: 'abc',
    country: 'DE',
  });
  return { partner, click };
}

/** A promise the test resolves when it chooses: holds one transaction open while another starts. */
export function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
