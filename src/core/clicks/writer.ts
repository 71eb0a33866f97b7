import type { ResolvedOptions } from '../options/options.js';
import type { Link, NewClick, Partner, Storage, VisitClick } from '../storage/types.js';

/**
 * How click capture reaches the database. `sync` looks the link up and inserts the click before
 * the page is answered. `batched` answers from a short-lived cache of links and keeps clicks in a
 * bounded buffer written in one statement per flush, so a referral visit costs no round trip; the
 * price is durability (see `ClickBatchOptions`).
 */
export interface ClickWriter {
  /** The code's active link and partner. */
  findActiveLink(code: string): Promise<{ link: Link; partner: Partner } | undefined>;
  /** The click, whether written already or still buffered. */
  findClick(id: string): Promise<{ linkCode: string; createdAt: Date; programId?: string } | undefined>;
  /** Records the click (buffered: accepted into the buffer; throws when the buffer is full). */
  write(click: NewClick & { createdAt: Date }): Promise<void>;
  /**
   * A visit with no earlier click: records it through the code's active link in one of
   * `programIds`, and returns its partner, program and code; undefined (nothing written) when the
   * code has no such link.
   */
  writeThroughLink(code: string, programIds: readonly string[], click: VisitClick): Promise<{ partnerId: string; programId: string } | undefined>;
  /** Writes every buffered click now. Resolves at once when none is waiting. */
  flush(): Promise<void>;
}

export function createClickWriter(options: ResolvedOptions, storage: () => Promise<Storage>): ClickWriter {
  if (options.clickWrites === 'sync') {
    return {
      findActiveLink: async (code) => (await storage()).findActiveLink(code),
      findClick: async (id) => (await storage()).getClick(id),
      write: async (click) => void (await (await storage()).insertClick(click)),
      // The link look-up and the insert in one statement: a referral visit is one round trip.
      writeThroughLink: async (code, programIds, click) => (await storage()).insertClickThroughLink(code, programIds, click),
      flush: async () => {},
    };
  }
  return new BatchedClickWriter(options, storage);
}

type FoundLink = { link: Link; partner: Partner } | undefined;

/** Codes remembered at most; a flood of made-up codes clears the cache rather than grow it. */
const MAX_CACHED_LINKS = 10_000;

class BatchedClickWriter implements ClickWriter {
  readonly #options: ResolvedOptions;
  readonly #storage: () => Promise<Storage>;
  readonly #links = new Map<string, { found: FoundLink; until: number }>();
  /** Waiting for the next flush, and taken by the flush in progress (still found by `findClick`). */
  #buffer = new Map<string, NewClick & { createdAt: Date }>();
  #writing = new Map<string, NewClick & { createdAt: Date }>();
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #onExit = () => void this.flush();

  constructor(options: ResolvedOptions, storage: () => Promise<Storage>) {
    this.#options = options;
    this.#storage = storage;
  }

  async findActiveLink(code: string): Promise<FoundLink> {
    const now = this.#options.clock().getTime();
    const cached = this.#links.get(code);
    if (cached && cached.until > now) return cached.found;
    const found = await (await this.#storage()).findActiveLink(code);
    if (this.#links.size >= MAX_CACHED_LINKS) this.#links.clear();
    this.#links.set(code, { found, until: now + this.#options.clickBatch.linkCacheSeconds * 1000 });
    return found;
  }

  async writeThroughLink(code: string, programIds: readonly string[], click: VisitClick) {
    const found = await this.findActiveLink(code);
    if (!found || !programIds.includes(found.link.programId)) return undefined;
    await this.write({ ...click, partnerId: found.partner.id, programId: found.link.programId, linkCode: found.link.code });
    return { partnerId: found.partner.id, programId: found.link.programId };
  }

  async findClick(id: string) {
    return this.#buffer.get(id) ?? this.#writing.get(id) ?? (await this.#storage()).getClick(id);
  }

  async write(click: NewClick & { createdAt: Date }): Promise<void> {
    const { maxBuffered, flushIntervalMs, maxBatch } = this.#options.clickBatch;
    if (this.#buffer.size + this.#writing.size >= maxBuffered) {
      throw new Error(`The click buffer is full (${maxBuffered} clicks not yet written: is the database reachable?); this click is not recorded`);
    }
    if (this.#buffer.size === 0 && this.#writing.size === 0) process.once('beforeExit', this.#onExit);
    this.#buffer.set(click.id, click);
    if (this.#buffer.size >= maxBatch) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), flushIntervalMs).unref();
  }

  flush(): Promise<void> {
    // One flush at a time; a flush asked for meanwhile runs after it, for the clicks it missed.
    const previous = this.#flushing ?? Promise.resolve();
    const next = previous.then(() => this.#writeBuffer());
    this.#flushing = next.finally(() => {
      if (this.#flushing === next) this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #writeBuffer(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#buffer.size === 0) return;
    this.#writing = this.#buffer;
    this.#buffer = new Map();
    try {
      await (await this.#storage()).insertClicks([...this.#writing.values()]);
    } catch (error) {
      // Kept for the next flush (the statement is idempotent on the click id); while the database
      // stays away, new clicks are refused once the buffer is full.
      this.#buffer = new Map([...this.#writing, ...this.#buffer]);
      this.#options.onError(error, `writing ${this.#writing.size} buffered clicks`);
      this.#timer ??= setTimeout(() => void this.flush(), this.#options.clickBatch.flushIntervalMs).unref();
    } finally {
      this.#writing = new Map();
      if (this.#buffer.size === 0) process.off('beforeExit', this.#onExit);
    }
  }
}
