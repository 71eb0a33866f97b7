import { AttributionError, InvalidValueError } from './errors.js';

/**
 * An amount of money in integer minor units of its currency (cents for USD, yen for JPY).
 * Stored as Postgres `bigint`; in JavaScript a safe integer, like every amount in Stripe's API.
 */
export type Amount = number;

/**
 * Reads a `bigint` column. node-postgres returns int8 as a string and PGlite as a number, so
 * both are accepted; anything that is not an exact safe integer is refused rather than rounded.
 */
export function toAmount(value: string | number | bigint): Amount {
  const amount = Number(value);
  if (!Number.isSafeInteger(amount) || String(value).trim() !== String(amount)) {
    throw new AttributionError(`Expected an integer amount in minor units, got ${String(value)}`);
  }
  return amount;
}

/** Guards an amount about to be written: integer minor units only, never a float. */
export function assertAmount(amount: number, field = 'amount'): Amount {
  if (!Number.isSafeInteger(amount)) {
    throw new InvalidValueError(`${field} must be an integer number of minor units, got ${amount}`);
  }
  return amount;
}

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
