/**
 * Every error this library throws on purpose is an `AttributionError`, so callers can branch on
 * the class and read a message that says how to fix the problem.
 */
export class AttributionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An optional peer dependency the chosen configuration needs is not installed. */
export class MissingDependencyError extends AttributionError {
  constructor(readonly packageName: string, readonly neededFor: string, options?: { cause?: unknown }) {
    super(
      `${neededFor} needs the package "${packageName}", which is not installed. ` +
        `Install it next to stripe-attribution: npm install ${packageName}`,
      options,
    );
  }
}

/** Applying the schema migrations failed; nothing of the failed migration was kept. */
export class MigrationError extends AttributionError {
  constructor(readonly migrationName: string | undefined, options?: { cause?: unknown }) {
    const what = migrationName ? `migration "${migrationName}"` : 'the migrations';
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`stripe-attribution could not apply ${what}${why}`, options);
  }
}

/**
 * The embedded database directory is already open in another process. PGlite is a single-process
 * database: opening it twice would corrupt it, so the second opener is refused instead.
 */
export class EmbeddedDatabaseLockedError extends AttributionError {
  constructor(readonly dataDir: string, readonly pid: number, readonly host?: string) {
    super(
      `The embedded database in ${dataDir} is in use by process ${pid}${host ? ` on ${host}` : ''}. ` +
        'Embedded PGlite serves one process at a time: stop that process first (for example your ' +
        'app, before running the CLI), or point every process at a shared Postgres with ' +
        'DATABASE_URL / --database-url.',
    );
  }
}

/**
 * A value handed to the ledger cannot be what it claims (an amount that is not integer minor
 * units). From a signed Stripe event this means the payload is not one Stripe sends: answered 400.
 */
export class InvalidValueError extends AttributionError {}

/** The options given to `createAttribution` (or the CLI) cannot work; the message names the fix. */
export class ConfigurationError extends AttributionError {}

/**
 * A record would break a uniqueness promise that is not an idempotent repeat (e.g. a taken code),
 * or changed between the read and the write of a change by hand (a commission paid meanwhile).
 */
export class ConflictError extends AttributionError {}

/**
 * A commission in a pending payout was to be paid, voided or adjusted on its own: that would leave
 * the payout paying an amount its commissions no longer add up to. `payoutId` names the payout.
 */
export class CommissionInPayoutError extends AttributionError {
  constructor(
    readonly commissionId: string,
    readonly payoutId: string,
  ) {
    super(`Commission ${commissionId} is in payout ${payoutId}, not paid yet: mark the payout paid, or cancel the payout first (\`payouts.cancel\`, \`npx stripe-attribution payouts cancel ${payoutId}\`) and create payouts again`);
  }
}

/**
 * A payout's commissions changed after it was made (a refund, dispute, void or adjustment), so its
 * amount is no longer what they add up to: it is not marked paid until made again.
 */
export class PayoutChangedError extends AttributionError {
  constructor(readonly payoutId: string) {
    super(`Payout ${payoutId} changed after it was created (a refund, dispute, void or adjustment of its commissions): cancel it (\`npx stripe-attribution payouts cancel ${payoutId}\`) and create payouts again, then pay the new amount`);
  }
}

/** Too many partner applications from one address in the rate limit's window. */
export class RateLimitedError extends AttributionError {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many applications from this address: try again in ${Math.ceil(retryAfterSeconds / 60)} minute${retryAfterSeconds > 60 ? 's' : ''}`);
  }
}

/**
 * A payout's transfer did not go through. `refused`: Stripe answered no (insufficient balance, an
 * account that cannot receive transfers): no money moved and the next try uses a new idempotency
 * key. Otherwise the outcome is unknown (a 5xx, a cut connection): the next try reuses the key, so
 * Stripe answers with the transfer it may have made instead of making a second. Either way the
 * payout stays payable, with the error stored on it.
 */
export class PayoutTransferError extends AttributionError {
  constructor(
    readonly payoutId: string,
    readonly refused: boolean,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`Payout ${payoutId} was not transferred: ${message}`, options);
  }
}

/** The partner's country cannot receive transfers from the merchant's Stripe account's country. */
export class CrossBorderError extends AttributionError {
  constructor(
    readonly platformCountry: string,
    readonly partnerCountry: string,
  ) {
    super(
      `A Stripe account in ${platformCountry} cannot transfer to a connected account in ${partnerCountry}: transfers go within a country, or across ` +
        'the US, Canada, the UK, the EEA and Switzerland (Stripe cross-border payouts). Pay this partner by CSV export instead',
    );
  }
}

/** The payout's transfer was reversed in full: its commissions went back to be paid in a new payout. */
export class PayoutReversedError extends AttributionError {
  constructor(readonly payoutId: string) {
    super(`Payout ${payoutId} was reversed: its transfer came back and its commissions are payable again; create payouts again to pay them`);
  }
}
