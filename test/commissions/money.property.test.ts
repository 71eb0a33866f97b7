import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitProRata } from '../../src/core/kernel/money.js';
import { addMonthsUtc, commissionNumerator, commissionOnRemaining, rewardTerms, type RewardTerms } from '../../src/core/commissions/rewards.js';

/** The oracle: an exact rational, rounded half up once, in BigInt (no shared code with the library). */
function roundHalfUp(numerator: bigint, denominator: bigint): number {
  return Number((numerator * 2n + denominator) / (denominator * 2n));
}

const lineArb = fc.record({ product: fc.constantFrom('prod_a', 'prod_b', 'prod_c', null), amount: fc.integer({ min: 0, max: 5_000_000 }) });
const percentArb = fc.integer({ min: 0, max: 10_000 }).map((bp) => bp / 100);

describe('money rules (property-based)', () => {
  it('the commission is the exact rational sum over unrounded line shares, rounded once', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { minLength: 1, maxLength: 6 }), percentArb, percentArb, fc.integer({ min: 1, max: 10_000_000 }), (lines, base, gold, sale) => {
        const terms: RewardTerms = rewardTerms({ type: 'percent', percent: base, products: { prod_a: { type: 'percent', percent: gold } } });
        const shares = splitProRata(sale, lines.map((line) => line.amount));
        const withShares = lines.map((line, i) => ({ stripeProductId: line.product, amount: shares[i]! }));
        const numerator = commissionNumerator(terms, withShares, { proration: false });
        let exact = 0n; // Σ share × percent / 100, over 10 000
        for (const line of withShares) {
          const percent = line.stripeProductId === 'prod_a' ? gold : base;
          exact += BigInt(line.amount) * BigInt(Math.round(percent * 100));
        }
        expect(commissionOnRemaining(numerator, sale, sale)).toBe(roundHalfUp(exact, 10_000n));
      }),
    );
  });

  it('line shares sum to the sale and stay within a cent of their exact pro rata share', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.array(fc.integer({ min: -1000, max: 1_000_000 }), { minLength: 1, maxLength: 8 }), (total, weights) => {
        const shares = splitProRata(total, weights);
        expect(shares.reduce((a, b) => a + b, 0)).toBe(total);
        const positive = weights.map((w) => Math.max(w, 0));
        const sum = positive.reduce((a, b) => a + b, 0);
        if (sum > 0) shares.forEach((share, i) => expect(Math.abs(share - (total * positive[i]!) / sum)).toBeLessThan(1));
      }),
    );
  });

  it('any sequence of partial refunds: each step records target − recorded, never more than the original, and a full refund nets to zero', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000_000 }),
        percentArb,
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 6 }),
        (sale, percent, steps) => {
          const numerator = commissionNumerator(rewardTerms({ type: 'percent', percent }), [{ stripeProductId: null, amount: sale }], { proration: false });
          const original = commissionOnRemaining(numerator, sale, sale);
          let recorded = original;
          let refunded = 0;
          let removed = 0;
          const weights = steps.reduce((a, b) => a + b, 0) || 1;
          for (const step of [...steps, weights]) {
            // Cumulative refunds rising to the whole sale, as charge.refunded reports them.
            refunded = Math.min(sale, refunded + Math.ceil((sale * step) / weights));
            const target = commissionOnRemaining(numerator, sale - refunded, sale);
            const delta = target - recorded;
            recorded += delta;
            removed -= delta;
            expect(recorded).toBe(roundHalfUp(numerator * BigInt(sale - refunded), BigInt(sale) * 10_000n));
            expect(removed).toBeLessThanOrEqual(original);
          }
          expect(refunded).toBe(sale);
          expect(recorded).toBe(0);
          expect(removed).toBe(original);
        },
      ),
    );
  });

  it('reward windows count calendar months in UTC, clamped to the end of shorter months', () => {
    expect(addMonthsUtc(new Date('2026-01-31T10:00:00Z'), 1).toISOString()).toBe('2026-02-28T10:00:00.000Z');
    expect(addMonthsUtc(new Date('2028-01-31T10:00:00Z'), 1).toISOString()).toBe('2028-02-29T10:00:00.000Z');
    expect(addMonthsUtc(new Date('2026-03-15T00:00:00Z'), 12).toISOString()).toBe('2027-03-15T00:00:00.000Z');
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }), fc.integer({ min: 1, max: 48 }), (start, months) => {
        const end = addMonthsUtc(start, months);
        const monthDiff = (end.getUTCFullYear() - start.getUTCFullYear()) * 12 + end.getUTCMonth() - start.getUTCMonth();
        expect(monthDiff).toBe(months);
        expect(end.getUTCDate()).toBeLessThanOrEqual(start.getUTCDate());
      }),
    );
  });

  it('refuses rates finer than two decimals and non-integer flat amounts', () => {
    expect(() => rewardTerms({ type: 'percent', percent: 12.345 })).toThrow(/two decimals/);
    expect(() => rewardTerms({ type: 'flat', amount: 4.5 })).toThrow(/integer/);
    expect(rewardTerms({ type: 'percent', percent: 12.34 }).rate).toEqual({ bp: 1234 });
  });
});
