import { newId } from '../kernel/ids.js';
import type { OutboxEvent, OutboxStatus, Storage } from '../storage/types.js';
import type { Hooks, HookEvent } from './hooks.js';
import { decodePayload, plainPayload } from './outbox-json.js';
import { postOutgoingWebhook, type OutgoingWebhookEndpoint } from './signed-webhooks.js';

export interface OutboxOptions {
  /**
   * Deliver events from this instance in the background: after each commit that raised some, and
   * every `pollMs` (a timer that never keeps the process alive). `false` for scripts and
   * serverless functions, which call `attribution.outbox.drain()` themselves, or leave delivery to
   * the app's instances. Default `true`.
   */
  worker?: boolean;
  /** How often an idle worker looks for events (another instance's, retries due). Default 2 000 ms. */
  pollMs?: number;
  /**
   * How long claimed events are an instance's before another may take them (a crashed instance's).
   * An event is started only while its lease outlasts `requestTimeoutMs` (or half the lease), so
   * an event whose handlers and POSTs together take longer than that may still be delivered twice
   * (handlers dedupe on the event id). Default 60 000 ms.
   */
  leaseMs?: number;
  /** Attempts before an event is given up (doctor reports it; `outbox.retry` replays it). Default 16. */
  maxAttempts?: number;
  /** The wait after the first failure, doubled after each next one. Default 5 000 ms. */
  backoffMs?: number;
  /** The longest wait between attempts. Default one hour. */
  maxBackoffMs?: number;
  /** How long an outgoing webhook POST may take. Default 10 000 ms. */
  requestTimeoutMs?: number;
}

export type ResolvedOutboxOptions = Required<OutboxOptions>;

/** Events claimed per statement. */
const BATCH = 50;
/** Delivered rows are kept this long (for a look in the database), then purged by a worker. */
const KEEP_DELIVERED_MS = 7 * 86_400_000;
/** Undelivered rows older than this with nothing claiming them: no worker is running. */
export const STUCK_AFTER_MS = 15 * 60_000;

export interface DrainResult {
  delivered: number;
  failed: number;
}

export interface OutboxWorkerSettings {
  options: ResolvedOutboxOptions;
  endpoints: readonly OutgoingWebhookEndpoint[];
  /** The library's own after-commit work (`enqueue`), by name. */
  internal: ReadonlyMap<string, (payload: unknown) => Promise<void>>;
  clock: () => Date;
  onError: (error: unknown, during: string) => void;
}

/**
 * Delivers the outbox: claims due events (leased, skipping rows other workers hold), calls the
 * handlers and outgoing webhooks, and marks them delivered, or records the failure and the next
 * attempt (exponential backoff). At least once: a crash after a handler ran and before the row was
 * marked delivers it again once the lease runs out. One pass at a time per instance.
 */
export class OutboxWorker {
  readonly #storage: () => Promise<Storage>;
  readonly #hooks: Hooks;
  readonly #settings: OutboxWorkerSettings;
  #pass: Promise<DrainResult & { claimed: number }> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #stopped = false;
  #purgedAt = 0;

  constructor(storage: () => Promise<Storage>, hooks: Hooks, settings: OutboxWorkerSettings) {
    this.#storage = storage;
    this.#hooks = hooks;
    this.#settings = settings;
  }

  /** Starts the background worker once (a no-op when `outbox.worker` is false or after `stop`). */
  start(): void {
    if (this.#started || this.#stopped || !this.#settings.options.worker) return;
    this.#started = true;
    this.#schedule(0);
  }

  /** Events were just committed here: deliver them now rather than at the next poll. */
  kick(): void {
    this.start();
    if (this.#started && !this.#stopped) this.#schedule(0);
  }

  /** Delivers every event due now, until none is left; returns what it did. For tests, scripts and serverless. */
  async drain(): Promise<DrainResult> {
    const total = { delivered: 0, failed: 0 };
    for (;;) {
      const pass = await this.#once();
      total.delivered += pass.delivered;
      total.failed += pass.failed;
      if (pass.claimed === 0) return total;
    }
  }

  /** Stops the background worker and waits for a pass in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#pass?.catch(() => undefined);
  }

  async status(): Promise<OutboxStatus> {
    const now = this.#settings.clock();
    return (await this.#storage()).outboxStatus({ now, stuckAfter: new Date(now.getTime() - STUCK_AFTER_MS) });
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), ms);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    try {
      // An instance that delivers nothing (no hooks, no outgoing webhooks) never touches the outbox.
      if (this.#names().length > 0) {
        await this.drain();
        await this.#purge();
      }
    } catch (error) {
      try {
        this.#settings.onError(error, 'delivering hook events from the outbox');
      } catch {
        // An onError that throws has no caller to reach from a timer; the next poll tries again.
      }
    }
    if (!this.#stopped) this.#schedule(this.#settings.options.pollMs);
  }

  /** One claim and its deliveries, after any pass already running here (whose rows it may wait behind). */
  async #once(): Promise<DrainResult & { claimed: number }> {
    while (this.#pass) await this.#pass.catch(() => undefined);
    const pass = this.#deliverBatch().finally(() => {
      this.#pass = undefined;
    });
    this.#pass = pass;
    return pass;
  }

  async #deliverBatch(): Promise<DrainResult & { claimed: number }> {
    const storage = await this.#storage();
    const { clock, options } = this.#settings;
    const now = clock();
    const token = newId('claim');
    const claimedUntil = now.getTime() + options.leaseMs;
    const claimed = await storage.claimOutboxEvents({ names: this.#names(), now, claimedUntil: new Date(claimedUntil), token, limit: BATCH });
    // The batch shares one lease and is delivered one event after another, so slow deliveries can
    // use it up: an event started near its end could still be running when another instance claims
    // and delivers it too. Those not started by then are handed back, to be claimed afresh.
    const startBy = claimedUntil - Math.min(options.requestTimeoutMs, options.leaseMs / 2);
    let delivered = 0;
    let failed = 0;
    for (const [index, event] of claimed.entries()) {
      if (clock().getTime() > startBy) {
        await storage.releaseOutboxClaims(claimed.slice(index).map((unstarted) => unstarted.id), token);
        break;
      }
      const error = await this.#deliver(event);
      if (error === undefined) {
        await storage.markOutboxDelivered(event.id, token, clock());
        delivered++;
      } else {
        failed++;
        const next = event.attempts >= options.maxAttempts ? null : new Date(clock().getTime() + Math.min(options.backoffMs * 2 ** (event.attempts - 1), options.maxBackoffMs));
        await storage.recordOutboxFailure(event.id, token, error instanceof Error ? error.message : String(error), next);
      }
    }
    return { claimed: claimed.length, delivered, failed };
  }

  /**
   * What this instance delivers: events with a handler here, an outgoing webhook, or the library's
   * own work. Anything else is left to the instances that have handlers for it (a CLI run or a script
   * without them never marks an event delivered that the app still has to act on).
   */
  #names(): string[] {
    const { endpoints, internal } = this.#settings;
    return [...new Set([...internal.keys(), ...this.#hooks.names(), ...endpoints.flatMap((endpoint) => endpoint.events ?? this.#hooks.eventNames)])];
  }

  /** Whether this instance delivers events named `name`: only those are written to the outbox. */
  wants(name: string): boolean {
    const { endpoints, internal } = this.#settings;
    return internal.has(name) || this.#hooks.handlers(name).length > 0 || endpoints.some((endpoint) => !endpoint.events || endpoint.events.includes(name));
  }

  /** Every handler and endpoint of the event, each even when an earlier one failed; the first error, if any. */
  async #deliver(event: OutboxEvent): Promise<unknown> {
    const { endpoints, internal, onError, options } = this.#settings;
    let failure: unknown;
    const attempt = async (during: string, run: () => unknown): Promise<void> => {
      try {
        await run();
      } catch (error) {
        onError(error, during);
        failure ??= error;
      }
    };
    const own = internal.get(event.name);
    if (own) {
      await attempt(`the outbox's ${event.name} (event ${event.id})`, () => own(decodePayload(event.payload)));
      return failure;
    }
    const meta: HookEvent = { id: event.id, name: event.name, attempt: event.attempts, createdAt: event.createdAt };
    for (const handler of this.#hooks.handlers(event.name)) {
      await attempt(`the ${event.name} hook`, () => handler(decodePayload(event.payload), meta));
    }
    const targets = endpoints.filter((endpoint) => !endpoint.events || endpoint.events.includes(event.name));
    if (targets.length > 0) {
      const body = JSON.stringify({ id: event.id, type: event.name, created: event.createdAt.toISOString(), data: plainPayload(event.payload) });
      for (const endpoint of targets) {
        await attempt(`the outgoing webhook to ${endpoint.url} (${event.name})`, () => postOutgoingWebhook(endpoint, body, new Date(), options.requestTimeoutMs));
      }
    }
    return failure;
  }

  async #purge(): Promise<void> {
    const now = this.#settings.clock().getTime();
    if (now - this.#purgedAt < 3_600_000) return;
    this.#purgedAt = now;
    await (await this.#storage()).purgeDeliveredOutboxEvents(new Date(now - KEEP_DELIVERED_MS));
  }
}
