import { ConfigurationError } from '../kernel/errors.js';
import type { Customer, FraudEvidence, FraudFlag, Partner, Sale } from '../storage/types.js';

/** What a fraud rule is shown about a new sale commission. */
export interface FraudContext {
  sale: Sale;
  partner: Partner;
  customer: Customer;
  /** The sale's click (user agent, IP hash, time), when it has one. */
  click: FraudEvidence['click'];
  /** What the database says around the sale (null when every rule that needs it is off). */
  evidence: FraudEvidence | null;
}

/** A rule of your own: return a flag to hold the commission for review, or undefined. Runs inside the sale's transaction: no network calls. */
export type FraudRule = (context: FraudContext) => FraudFlag | undefined;

export interface FraudRulesOptions {
  /** The buyer's email is the partner's once normalised (case; dots and `+tags` where the provider ignores them). Default on. */
  selfReferral?: boolean;
  /** The buyer's email is at a throwaway domain (the `disposable-email-domains` list), minus `allow`, plus `block`. Default on. */
  disposableEmail?: boolean | { allow?: string[]; block?: string[] };
  /** More than `perHour` of the partner's clicks from the sale's click's IP hash within an hour of that click. Default `{ perHour: 50 }`. */
  clickFlood?: boolean | { perHour?: number };
  /**
   * Paid within `seconds` of its click, and the click's user agent looks automated (none, a bot's,
   * a headless or driven browser, or not a browser's at all; or your `automated`). Default `{ seconds: 10 }`.
   */
  quickPurchase?: boolean | { seconds?: number; automated?: (userAgent: string | null) => boolean };
  /**
   * The partner's sales of the last `days` days were refunded (in part or whole) more often than
   * `rate` (0–1), once they have at least `minSales`. Default `{ rate: 0.5, days: 30, minSales: 5 }`.
   */
  refundRate?: boolean | { rate?: number; days?: number; minSales?: number };
  /**
   * At least `cards` of the partner's customers (this one included) paid with one card, or at least
   * `ips` of them came through clicks from one IP hash. Default `{ cards: 3, ips: 5 }`.
   */
  sharedIdentity?: boolean | { cards?: number; ips?: number };
}

export interface FraudOptions {
  /** The built-in rules: `false` turns one off, an object tunes it. */
  rules?: FraudRulesOptions;
  /** Rules of your own, run after the built-ins on every new sale commission. */
  custom?: FraudRule[];
}

export interface ResolvedFraud {
  selfReferral: boolean;
  disposableEmail: { allow: ReadonlySet<string>; block: ReadonlySet<string> } | null;
  clickFlood: { perHour: number } | null;
  quickPurchase: { seconds: number; automated: ((userAgent: string | null) => boolean) | undefined } | null;
  refundRate: { rate: number; days: number; minSales: number } | null;
  sharedIdentity: { cards: number; ips: number } | null;
  custom: readonly FraudRule[];
  /** Whether any rule needs the one extra read (`readFraudEvidence`). */
  needsEvidence: boolean;
}

/** Applies the defaults; a threshold that is not a positive number is a configuration error. */
export function resolveFraud(fraud: FraudOptions = {}): ResolvedFraud {
  const rules = fraud.rules ?? {};
  const tuned = <T extends object>(value: boolean | T | undefined): T | null => (value === false ? null : value === true || value === undefined ? ({} as T) : value);
  const disposable = tuned(rules.disposableEmail);
  const flood = tuned(rules.clickFlood);
  const quick = tuned(rules.quickPurchase);
  const refunds = tuned(rules.refundRate);
  const shared = tuned(rules.sharedIdentity);
  const resolved: ResolvedFraud = {
    selfReferral: rules.selfReferral !== false,
    disposableEmail: disposable && { allow: domains(disposable.allow), block: domains(disposable.block) },
    clickFlood: flood && { perHour: positive(flood.perHour ?? 50, 'clickFlood.perHour') },
    quickPurchase: quick && { seconds: positive(quick.seconds ?? 10, 'quickPurchase.seconds'), automated: quick.automated },
    refundRate: refunds && {
      rate: fraction(refunds.rate ?? 0.5, 'refundRate.rate'),
      days: positive(refunds.days ?? 30, 'refundRate.days'),
      minSales: positive(refunds.minSales ?? 5, 'refundRate.minSales'),
    },
    sharedIdentity: shared && { cards: positive(shared.cards ?? 3, 'sharedIdentity.cards'), ips: positive(shared.ips ?? 5, 'sharedIdentity.ips') },
    custom: fraud.custom ?? [],
    needsEvidence: false,
  };
  resolved.needsEvidence = Boolean(resolved.clickFlood || resolved.quickPurchase || resolved.refundRate || resolved.sharedIdentity || resolved.custom.length);
  return resolved;
}

function domains(list: string[] | undefined): ReadonlySet<string> {
  return new Set((list ?? []).map((domain) => domain.trim().toLowerCase()));
}

function positive(value: number, name: string): number {
  if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) throw new ConfigurationError(`fraud.rules.${name} must be a positive number, got ${String(value)}`);
  return value;
}

function fraction(value: number, name: string): number {
  if (!(typeof value === 'number' && value >= 0 && value <= 1)) throw new ConfigurationError(`fraud.rules.${name} must be between 0 and 1, got ${String(value)}`);
  return value;
}
