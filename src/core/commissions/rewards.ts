import { ConfigurationError } from '../kernel/errors.js';
import { scaleRoundHalfUp } from '../kernel/money.js';

/** How long a customer's purchases earn commissions, from their first attributed sale. */
export type RewardDuration = 'once' | 'lifetime' | { months: number };

/** A commission rate: a percentage (two decimals at most) or a flat amount in minor units. */
export type Rate = { type: 'percent'; percent: number } | { type: 'flat'; amount: number };

/** The program's sale reward: a base rate, how long it pays, and rates for specific Stripe products. */
export type SaleReward = Rate & {
  /** Default `'lifetime'`. */
  duration?: RewardDuration;
  /** By Stripe product id, applied to that product's line items. */
  products?: Record<string, Rate>;
};

/**
 * What a partner earns when their customer reaches a milestone (`trackEvent`): a flat amount in
 * `program.currency`, or a percent of the event's `value` in its currency.
 */
export type EventReward = Rate & {
  /** Pay it for the customer's first event of this name only. Default `false`: every event pays. */
  once?: boolean;
};

/** A rate as stored: basis points (1 % = 100) or a flat amount. */
export type StoredRate = { bp: number } | { flat: number };

/** The terms a customer's commissions follow, locked at their first attributed sale. */
export interface RewardTerms {
  rate: StoredRate;
  duration: RewardDuration;
  products: Record<string, StoredRate>;
}

export function storedRate(rate: Rate, where: string): StoredRate {
  if (rate.type === 'percent') {
    const bp = Math.round(rate.percent * 100);
    if (!(rate.percent >= 0 && rate.percent <= 100) || Math.abs(bp - rate.percent * 100) > 1e-6) {
      throw new ConfigurationError(`${where}: percent must be between 0 and 100 with at most two decimals, got ${rate.percent}`);
    }
    return { bp };
  }
  if (!Number.isSafeInteger(rate.amount) || rate.amount < 0) {
    throw new ConfigurationError(`${where}: a flat amount is a non-negative integer of minor units, got ${rate.amount}`);
  }
  return { flat: rate.amount };
}

/** Validates a configured reward and turns it into the terms stored with a customer. */
export function rewardTerms(reward: SaleReward): RewardTerms {
  const duration = reward.duration ?? 'lifetime';
  if (typeof duration === 'object' && !(Number.isInteger(duration.months) && duration.months > 0)) {
    throw new ConfigurationError(`reward.duration.months must be a positive whole number, got ${duration.months}`);
  }
  return {
    rate: storedRate(reward, 'reward'),
    duration,
    products: Object.fromEntries(Object.entries(reward.products ?? {}).map(([product, rate]) => [product, storedRate(rate, `reward.products.${product}`)])),
  };
}

/** `date` plus whole calendar months in UTC, clamped to the end of a shorter month (Jan 31 + 1 → Feb 28). */
export function addMonthsUtc(date: Date, months: number): Date {
  const target = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1, date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(), date.getUTCMilliseconds()));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(date.getUTCDate(), lastDay));
  return target;
}

/**
 * Whether a sale falls inside the reward window that opened with the customer's first sale: the
 * earliest by Stripe time, as `lockRewardTerms` anchors it, so the answer never depends on the
 * order sales are delivered in.
 */
export function inRewardWindow(terms: RewardTerms, first: { saleId: string; at: Date }, sale: { id: string; occurredAt: Date }): boolean {
  if (terms.duration === 'lifetime') return true;
  if (terms.duration === 'once') return sale.id === first.saleId;
  return sale.occurredAt.getTime() < addMonthsUtc(first.at, terms.duration.months).getTime();
}

export interface CommissionLine {
  stripeProductId: string | null;
  /** The line's share of the sale, in minor units. */
  amount: number;
}

/**
 * The exact commission on a sale, as a numerator over 10 000 (basis points), so it can be scaled
 * and rounded once: percent lines add `share × bp`, flat product lines their amount, and a flat
 * base rate pays once per sale. Proration invoices earn percent rewards only.
 */
export function commissionNumerator(terms: RewardTerms, lines: readonly CommissionLine[], options: { proration: boolean }): bigint {
  let numerator = 0n;
  let baseFlatDue = false;
  for (const line of lines) {
    if (line.amount <= 0) continue;
    const rate = (line.stripeProductId && terms.products[line.stripeProductId]) || terms.rate;
    const isBase = rate === terms.rate;
    if ('bp' in rate) numerator += BigInt(line.amount) * BigInt(rate.bp);
    else if (isBase) baseFlatDue = true;
    else if (!options.proration) numerator += BigInt(rate.flat) * 10_000n;
  }
  if (baseFlatDue && !options.proration && 'flat' in terms.rate) numerator += BigInt(terms.rate.flat) * 10_000n;
  return numerator;
}

/**
 * The commission on what remains of a sale, rounded once, half up: the exact commission scaled by
 * `remaining / saleAmount`. Every later change is a difference of two such rounded totals.
 */
export function commissionOnRemaining(numerator: bigint, remaining: number, saleAmount: number): number {
  if (saleAmount <= 0 || remaining <= 0 || numerator <= 0n) return 0;
  if (numerator > BigInt(Number.MAX_SAFE_INTEGER)) throw new ConfigurationError('Commission exceeds the safe integer range');
  return scaleRoundHalfUp(Number(numerator), Math.min(remaining, saleAmount), saleAmount * 10_000);
}

/**
 * The same, for a commission converted at creation: the exact remaining commission times the
 * conversion's fixed rate (`converted / source`, both whole amounts), still rounded once.
 */
export function convertedCommissionOnRemaining(
  numerator: bigint,
  remaining: number,
  saleAmount: number,
  conversion: { sourceAmount: number; convertedAmount: number },
): number {
  if (saleAmount <= 0 || remaining <= 0 || numerator <= 0n || conversion.sourceAmount <= 0) return 0;
  const top = numerator * BigInt(Math.min(remaining, saleAmount)) * BigInt(conversion.convertedAmount);
  const bottom = BigInt(saleAmount) * 10_000n * BigInt(conversion.sourceAmount);
  return Number((2n * top + bottom) / (2n * bottom));
}


/**
 * A sale reward typed by a person (the CLI, the dashboard): `20%` or a flat whole number of minor
 * units (`500` = 5.00), for `duration` `lifetime` (default), `once` or `12m` (months). `none` or
 * nothing: null, back to the group's or program's reward.
 */
export function rewardFromText(rate: string, duration = ''): SaleReward | null {
  const text = rate.trim().toLowerCase();
  if (text === '' || text === 'none') return null;
  const percent = /^(\d+(?:\.\d{1,2})?)\s*%$/.exec(text);
  const parsed: Rate | undefined = percent ? { type: 'percent', percent: Number(percent[1]) } : /^\d+$/.test(text) ? { type: 'flat', amount: Number(text) } : undefined;
  if (!parsed || (parsed.type === 'percent' && parsed.percent > 100) || (parsed.type === 'flat' && !Number.isSafeInteger(parsed.amount))) {
    throw new ConfigurationError(`Reward "${rate}": a percent such as 20% (two decimals at most, 100% at most), or a flat amount in minor units such as 500 for 5.00`);
  }
  const months = /^(\d+)\s*m$/.exec(duration.trim().toLowerCase());
  const span = duration.trim().toLowerCase();
  const length: RewardDuration | undefined = span === '' || span === 'lifetime' ? 'lifetime' : span === 'once' ? 'once' : months && Number(months[1]) > 0 ? { months: Number(months[1]) } : undefined;
  if (!length) throw new ConfigurationError(`Reward duration "${duration}": lifetime, once, or a number of months such as 12m`);
  return { ...parsed, duration: length };
}
