import { AttributionError } from '../errors.js';
import type { Amount } from '../money.js';

/**
 * `value × numerator / denominator`, rounded half up, computed exactly in integers (no float ever
 * touches an amount). For the non-negative amounts of sales and refunds.
 */
export function scaleRoundHalfUp(value: Amount, numerator: Amount, denominator: Amount): Amount {
  if (denominator <= 0 || value < 0 || numerator < 0) {
    throw new AttributionError(`Cannot scale ${value} by ${numerator}/${denominator}: amounts here are never negative`);
  }
  const product = BigInt(value) * BigInt(numerator);
  const den = BigInt(denominator);
  return Number((2n * product + den) / (2n * den));
}

/**
 * Splits `total` across `weights` pro rata, by largest remainder, so the shares sum to `total`
 * exactly. Lines that do not add to the price (zero or negative, such as proration credits) get
 * no share; with no positive weight at all the first line takes everything.
 */
export function splitProRata(total: Amount, weights: readonly Amount[]): Amount[] {
  const positive = weights.map((weight) => (weight > 0 ? BigInt(weight) : 0n));
  const sum = positive.reduce((a, b) => a + b, 0n);
  if (weights.length === 0) return [];
  if (sum === 0n) return weights.map((_, i) => (i === 0 ? total : 0));
  const exact = positive.map((weight) => BigInt(total) * weight);
  const shares = exact.map((value) => value / sum);
  let remaining = BigInt(total) - shares.reduce((a, b) => a + b, 0n);
  const byRemainder = exact
    .map((value, index) => ({ index, remainder: value % sum }))
    .sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  for (const { index } of byRemainder) {
    if (remaining === 0n) break;
    shares[index]! += 1n;
    remaining -= 1n;
  }
  return shares.map(Number);
}
