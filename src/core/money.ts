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
