import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { verifyOutgoingWebhook } from '../../src/core/transaction/signed-webhooks.js';
import { backends, DATABASE_URL, uniqueSchema } from '../support/backends.js';
import { checkoutSession, customer, event, T0 } from '../support/stripe-fixtures.js';
import { SECRET, stripeServer, world } from '../support/world.js';
import { emptyDataDir } from '../support/data-dirs.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const until = async (done: () => boolean | Promise<boolean>) => {
  while (!(await done())) await new Promise((resolve) => setTimeout(resolve, 10));
};
const requestsTo = (method: string, id: string) => stripeServer.requests.filter((r) => r.method === method && r.path === `/v1/customers/${id}`);

describe.each(backends())('the outbox on $name', (backend) => {
  it('the webhook answers within a second while Stripe stalls the metadata write-back; the write comes after, once, only where the key is missing', async () => {
    const w = await world(backend, undefined, { backfillCustomerMetadata: true });
    const id = `cus_stall_${backend.name}`;
    let release!: (answer: unknown) => void;
    stripeServer.answers.set(`GET /v1/customers/${id}`, new Promise((resolve) => (release = resolve)));
    const completed = event('checkout.session.completed', checkoutSession({ id: `cs_stall_${backend.name}`, payment_intent: `pi_stall_${backend.name}`, customer: id, metadata: { sa_click_id: w.aliceClick, sa_customer_key: 'user_42' } }));

    const started = performance.now();
    expect((await w.deliver(completed)).status).toBe(200);
    expect(performance.now() - started).toBeLessThan(1000);
    // The background worker is waiting on Stripe, outside any request.
    await until(() => requestsTo('GET', id).length === 1);
    expect(requestsTo('POST', id)).toEqual([]);
    release(customer({ id, metadata: {} }));
    await until(() => requestsTo('POST', id).length === 1);
    await w.attribution.outbox.drain();

    // A later purchase and a redelivery: still one write.
    await w.deliver(event('checkout.session.completed', checkoutSession({ id: `cs_stall_2_${backend.name}`, payment_intent: `pi_stall_2_${backend.name}`, customer: id })));
    await w.deliver(completed);
    await w.attribution.outbox.drain();
    expect(requestsTo('POST', id).map((r) => r.form)).toEqual([{ 'metadata[sa_customer_key]': 'user_42' }]);

    // A customer whose customer.created already showed the key is never written, not even at its sale.
    const tagged = `cus_tagged_first_${backend.name}`;
    await w.deliver(event('customer.created', customer({ id: tagged, metadata: { sa_click_id: w.aliceClick, sa_customer_key: 'user_7' } })));
    await w.deliver(event('checkout.session.completed', checkoutSession({ id: `cs_tagged_${backend.name}`, payment_intent: `pi_tagged_${backend.name}`, customer: tagged, metadata: { sa_customer_key: 'user_7' } })));
    await w.attribution.outbox.drain();
    expect([...requestsTo('GET', tagged), ...requestsTo('POST', tagged)]).toEqual([]);
    await w.attribution.close();
  });

  it('a write-back that times out is aborted, reported and retried after its backoff', async () => {
    let now = new Date((T0 - 3600) * 1000);
    const errors: string[] = [];
    const w = await world(backend, undefined, {
      backfillCustomerMetadata: true,
      stripeTimeoutMs: 200,
      clock: () => now,
      onError: (error) => errors.push(String(error)),
      outbox: { worker: false },
    });
    const id = `cus_slow_${backend.name}`;
    stripeServer.answers.set(`GET /v1/customers/${id}`, new Promise(() => {}));
    await w.deliver(event('checkout.session.completed', checkoutSession({ id: `cs_slow_${backend.name}`, payment_intent: `pi_slow_${backend.name}`, customer: id, metadata: { sa_click_id: w.aliceClick, sa_customer_key: 'user_43' } })));
    // Only the write-back is in the outbox: nothing here listens to the lead or the sale.
    expect(await w.attribution.outbox.drain()).toEqual({ delivered: 0, failed: 1 });
    expect(errors).toEqual([expect.stringMatching(/timeout|timed out/i)]);
    expect(await w.attribution.outbox.failed()).toMatchObject([{ name: 'stripe.customer_key_write_back', attempts: 1 }]);

    stripeServer.answers.set(`GET /v1/customers/${id}`, customer({ id, metadata: {} }));
    expect(await w.attribution.outbox.drain()).toEqual({ delivered: 0, failed: 0 });
    now = new Date(now.getTime() + 5_000);
    expect(await w.attribution.outbox.drain()).toEqual({ delivered: 1, failed: 0 });
    expect(requestsTo('POST', id).map((r) => r.form)).toEqual([{ 'metadata[sa_customer_key]': 'user_43' }]);
  });

  it('two workers on one database deliver each event once, each customer’s in the order raised', async () => {
    const w = await world(backend, undefined, { outbox: { worker: false } });
    const second = createAttribution({ database: w.storage, webhookSecret: SECRET, livemode: true, clicks: { ipSalt: 'pepper' }, clock: () => new Date((T0 - 3600) * 1000), onError: () => {}, outbox: { worker: false } });
    const deliveries: Array<{ worker: number; id: string; customer: string; amount: number }> = [];
    [w.attribution, second].forEach((instance, worker) =>
      instance.on('sale.created', async ({ sale }, { id }) => {
        await new Promise(setImmediate); // a handler that awaits lets the other worker run meanwhile
        deliveries.push({ worker, id, customer: sale.customerId!, amount: sale.amount });
      }),
    );
    const customers = ['a', 'b', 'c'].map((letter) => `cus_order_${letter}_${backend.name}`);
    for (let n = 0; n < 3; n++) {
      for (const id of customers) {
        await w.deliver(event('checkout.session.completed', checkoutSession({ id: `cs_${id}_${n}`, payment_intent: `pi_${id}_${n}`, customer: id, customer_details: { address: null, business_name: null, email: `${id}@example.com`, individual_name: null, name: null, phone: null, tax_exempt: 'none', tax_ids: [] }, amount_subtotal: 1000 + n, amount_total: 1000 + n, metadata: { sa_click_id: w.aliceClick } })));
      }
    }
    const [one, two] = await Promise.all([w.attribution.outbox.drain(), second.outbox.drain()]);

    // Only sale.created is listened to, so only it was written.
    expect(one.delivered + two.delivered).toBe(await w.count('sa_outbox_events'));
    expect(new Set(deliveries.map((d) => d.id)).size).toBe(deliveries.length);
    expect(deliveries).toHaveLength(9);
    const byCustomer = new Map<string, number[]>();
    for (const d of deliveries) byCustomer.set(d.customer, [...(byCustomer.get(d.customer) ?? []), d.amount]);
    expect([...byCustomer.values()]).toEqual(customers.map(() => [1000, 1001, 1002]));
    expect(await w.attribution.outbox.drain()).toEqual({ delivered: 0, failed: 0 });
  });

  it('events a slow batch could not start before its lease ran low are handed back and claimed afresh, never delivered twice', async () => {
    let now = new Date((T0 - 3600) * 1000);
    const clock = () => now;
    const later = (ms: number) => void (now = new Date(now.getTime() + ms));
    const w = await world(backend, undefined, { clock, outbox: { worker: false, leaseMs: 60_000, requestTimeoutMs: 10_000 } });
    const second = createAttribution({ database: w.storage, webhookSecret: SECRET, livemode: true, clicks: { ipSalt: 'pepper' }, clock, onError: () => {}, outbox: { worker: false, leaseMs: 60_000 } });
    const deliveries: Array<{ worker: string; id: string }> = [];
    w.attribution.on('sale.created', async (_sale, { id }) => {
      deliveries.push({ worker: 'first', id });
      if (deliveries.length === 1) return later(55_000);
      // A delivery that takes 10 s from 55 s into the lease: meanwhile the lease runs out and the other instance drains.
      later(10_000);
      await second.outbox.drain();
    });
    second.on('sale.created', (_sale, { id }) => void deliveries.push({ worker: 'second', id }));
    for (const letter of ['a', 'b', 'c']) {
      const id = `cus_lease_${letter}_${backend.name}`;
      await w.deliver(event('checkout.session.completed', checkoutSession({ id: `cs_${id}`, payment_intent: `pi_${id}`, customer: id, customer_details: null, customer_email: `${id}@example.com`, metadata: { sa_click_id: w.aliceClick } })));
    }

    // The first pass delivers one and hands the other two back; drain claims them again, with a new lease.
    expect(await w.attribution.outbox.drain()).toEqual({ delivered: 3, failed: 0 });
    expect(deliveries.map((d) => d.worker)).toEqual(['first', 'first', 'first']);
    expect(new Set(deliveries.map((d) => d.id)).size).toBe(3);
    // Handed back, not retried: each was attempted once.
    const attempts = await sql<{ attempts: number }>`select attempts from ${sql.id(w.schema, 'sa_outbox_events')}`.execute(backend.db);
    expect(attempts.rows.map((row) => row.attempts)).toEqual([1, 1, 1]);
    expect(await second.outbox.drain()).toEqual({ delivered: 0, failed: 0 });
  });

  it('signed outgoing webhooks: each event POSTed with a verifiable signature, a failing endpoint retried', async () => {
    const received: Array<{ body: string; headers: IncomingHttpHeaders }> = [];
    let failNext = true;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        received.push({ body, headers: req.headers });
        res.writeHead(failNext ? 503 : 204).end();
        failNext = false;
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const secret = 'whsec_outgoing_0123456789abcdefghijklmnopqrstuvwxyz';
    let now = new Date((T0 - 3600) * 1000);
    const w = await world(backend, undefined, {
      clock: () => now,
      outbox: { worker: false },
      outgoingWebhooks: [{ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, secret, events: ['sale.created'] }],
    });
    await w.deliver(event('checkout.session.completed', checkoutSession({ id: `cs_out_${backend.name}`, payment_intent: `pi_out_${backend.name}`, metadata: { sa_click_id: w.aliceClick } })));
    expect(await w.attribution.outbox.drain()).toMatchObject({ failed: 1 });
    now = new Date(now.getTime() + 5_000);
    await w.attribution.outbox.drain();
    server.close();

    expect(received).toHaveLength(2);
    const [first, retried] = received as [(typeof received)[0], (typeof received)[0]];
    expect(retried.body).toBe(first.body); // the same event, the same id: receivers dedupe on it
    const verified = verifyOutgoingWebhook(retried.body, retried.headers['stripe-attribution-signature'] as string, secret);
    expect(verified).toMatchObject({ type: 'sale.created', id: expect.stringMatching(/^hook_/), data: { sale: { amount: 10000, partnerId: w.alice } } });
    expect(typeof (verified.data as { sale: { createdAt: unknown } }).sale.createdAt).toBe('string');
    expect(() => verifyOutgoingWebhook(retried.body.replace('10000', '99999'), retried.headers['stripe-attribution-signature'] as string, secret)).toThrow(/does not match/);
    expect(() => verifyOutgoingWebhook(retried.body, retried.headers['stripe-attribution-signature'] as string, secret, { now: new Date(Date.now() + 3_600_000) })).toThrow(/tolerance/);
  });

  it('a replay: a given-up event is reported and delivered again by outbox.retry', async () => {
    const w = await world(backend, undefined, { outbox: { worker: false, maxAttempts: 1 } });
    let down = true;
    const seen: string[] = [];
    w.attribution.on('lead.created', ({ customer: c }) => {
      if (down) throw new Error('mail server down');
      seen.push(c.stripeCustomerId!);
    });
    await w.deliver(event('checkout.session.completed', checkoutSession({ id: `cs_replay_${backend.name}`, payment_intent: `pi_replay_${backend.name}`, customer: 'cus_replay', metadata: { sa_click_id: w.aliceClick } })));
    await w.attribution.outbox.drain();
    expect(await w.attribution.outbox.status()).toMatchObject({ dead: 1, lastError: 'mail server down' });
    down = false;
    expect(await w.attribution.outbox.retry()).toBe(1);
    await w.attribution.outbox.drain();
    expect(seen).toEqual(['cus_replay']);
    expect(await w.attribution.outbox.status()).toMatchObject({ pending: 0, failing: 0, dead: 0 });
  });
});

describe('a hook survives a crash between commit and delivery', () => {
  // Inside the project, so the bundle's external packages resolve from its node_modules.
  const bundle = join(mkdtempSync(join(root, 'node_modules', '.sa-outbox-')), 'outbox-crash.mjs');
  beforeAll(async () => {
    await build({ entryPoints: [join(root, 'test/fixtures/outbox-crash.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: bundle, logLevel: 'silent' });
  });
  afterAll(() => rmSync(dirname(bundle), { recursive: true, force: true }));

  const run = (database: string, schema: string, mode: 'crash' | 'restart', onLine: (line: string, kill: () => void) => void) =>
    new Promise<{ signal: NodeJS.Signals | null; lines: string[] }>((resolve, reject) => {
      const child = spawn(process.execPath, [bundle, database, schema, mode], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      const lines: string[] = [];
      let buffered = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        buffered += chunk;
        for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 1);
          lines.push(line);
          onLine(line, () => child.kill('SIGKILL'));
        }
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => (code === 0 || signal ? resolve({ signal, lines }) : reject(new Error(`${mode} exited ${code}`))));
    });

  it(`killed (SIGKILL) while delivering, the restarted process delivers the hook exactly once (${DATABASE_URL ? 'Postgres' : 'embedded'})`, async () => {
    // Postgres when the suite has one; else an embedded data directory, which the dead process's lock must not block.
    const directory = DATABASE_URL ? undefined : emptyDataDir('sa-outbox-db-');
    const database = DATABASE_URL ?? directory!;
    const schema = DATABASE_URL ? uniqueSchema() : '-';
    try {
      const crashed = await run(database, schema, 'crash', (line, kill) => line.startsWith('delivering ') && kill());
      expect(crashed.signal).toBe('SIGKILL');
      expect(crashed.lines[0]).toBe('committed');
      const eventId = crashed.lines[1]!.slice('delivering '.length);

      const restarted = await run(database, schema, 'restart', () => {});
      const report = JSON.parse(restarted.lines.at(-1)!) as { delivered: string[]; status: { pending: number; failing: number; dead: number } };
      expect(report.delivered).toEqual([`${eventId} 4200`]);
      expect(report.status).toMatchObject({ pending: 0, failing: 0, dead: 0 });
    } finally {
      if (directory) rmSync(directory, { recursive: true, force: true });
    }
  });
});
