import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The form-encoded body as Stripe reads it: flat bracketed keys (`metadata[sa_click_id]`). */
  form: Record<string, string>;
  /** The query string, keyed the same way (`created[gte]`, `types[0]`). */
  query: Record<string, string>;
  /** The `Idempotency-Key` header, if sent. */
  idempotencyKey: string | undefined;
}

/**
 * A scripted failure of the next request to "METHOD /path": `reset` and `500` make the object as
 * Stripe would (kept under the idempotency key) and then cut the connection or answer 500, as when
 * Stripe did the work and the answer was lost; `refuse` answers a 4xx error (kept under the key too,
 * as Stripe keeps refusals).
 */
export type ScriptedFailure =
  | { kind: 'reset' | '500' }
  | { kind: 'refuse'; status: number; type?: string; code?: string; message: string };

const OBJECTS: Record<string, string> = {
  '/v1/checkout/sessions': 'checkout.session',
  '/v1/customers': 'customer',
  '/v1/subscriptions': 'subscription',
  '/v1/payment_intents': 'payment_intent',
  '/v1/payment_links': 'payment_link',
  '/v1/transfers': 'transfer',
  '/v1/accounts': 'account',
  '/v1/account_links': 'account_link',
};

/** An API at its worst: every request waits a while, some answer 500, some stall far longer. */
export interface StripeServerFaults {
  /** Uniform in [0, 1): seeded by the caller, so a run can be replayed. */
  random: () => number;
  /** Share of requests answered 500 (after their delay). */
  failureRate: number;
  /** Each request waits up to this long before it is answered. */
  maxDelayMs: number;
  /** Share of requests that stall for `stallMs` instead (longer than the client's timeout). */
  stallRate?: number;
  stallMs?: number;
}

/**
 * A local stand-in for api.stripe.com: the real stripe SDK talks to it over HTTP, it records
 * exactly what Stripe would have received and answers with an object of the right kind.
 */
export async function startStripeServer(options: { faults?: StripeServerFaults; keepProcessAlive?: boolean } = {}) {
  const requests: RecordedRequest[] = [];
  /** What the faults did: requests delayed, answered 500, stalled. */
  const faulted = { delayed: 0, failed: 0, stalled: 0 };
  let faults = options.faults;
  /**
   * Canned answers by "METHOD /path", e.g. a list for `GET /v1/invoice_payments`; an Error answers
   * 500; a Promise makes the API stall until it settles, then answers what it resolved to.
   */
  const answers = new Map<string, unknown>();
  /** What `GET /v1/events` lists, in any order: served newest first, filtered and paginated as Stripe does. */
  const events: Stripe.Event[] = [];
  /** Failures to script, by "METHOD /path", each used once, in order. */
  const failures = new Map<string, ScriptedFailure[]>();
  /** Every object a POST made (once per idempotency key), in order. */
  const created: Array<Record<string, unknown>> = [];
  /** What was answered under each idempotency key, answered again to a repeat as Stripe does. */
  const idempotent = new Map<string, { status: number; body: string }>();
  let counter = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', async () => {
      const [path = '', search = ''] = (req.url ?? '').split('?');
      const query = Object.fromEntries(new URLSearchParams(search));
      const form = Object.fromEntries(new URLSearchParams(body));
      const idempotencyKey = req.headers['idempotency-key'] as string | undefined;
      requests.push({ method: req.method!, path, headers: req.headers, form, query, idempotencyKey });
      if (faults && (await fault(faults))) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { type: 'api_error', message: 'stand-in Stripe: injected failure' } }));
        return;
      }
      const failure = failures.get(`${req.method} ${path}`)?.shift();
      const replay = idempotencyKey ? idempotent.get(idempotencyKey) : undefined;
      if (req.method === 'POST' && (replay || failure)) {
        // Stripe answers a repeated key with what it answered the first time, whatever happens to the answer on its way.
        const answer = replay ?? (failure!.kind === 'refuse' ? refusal(failure!) : { status: 200, body: JSON.stringify(make(path, form)) });
        if (idempotencyKey && !replay) idempotent.set(idempotencyKey, answer);
        if (failure?.kind === 'reset') {
          req.socket.destroy();
          return;
        }
        if (failure?.kind === '500') {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { type: 'api_error', message: 'An unknown error occurred' } }));
          return;
        }
        res.writeHead(answer.status, { 'content-type': 'application/json', 'idempotent-replayed': String(Boolean(replay)) });
        res.end(answer.body);
        return;
      }
      if (req.method === 'GET' && path === '/v1/events' && !answers.has('GET /v1/events')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(eventPage(events, query)));
        return;
      }
      const answer = answers.get(`${req.method} ${path}`);
      const canned = answer instanceof Promise ? await answer : answer;
      if (canned instanceof Error) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { type: 'api_error', message: canned.message } }));
        return;
      }
      if (canned !== undefined || req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(canned ?? { object: 'list', data: [], has_more: false, url: path }));
        return;
      }
      const made = JSON.stringify(make(path, form));
      if (idempotencyKey && req.method === 'POST') idempotent.set(idempotencyKey, { status: 200, body: made });
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_${counter}` });
      res.end(made);
    });
  });
  /** Waits as the faults say; true when the request is to be answered 500. */
  async function fault({ random, failureRate, maxDelayMs, stallRate = 0, stallMs = 0 }: StripeServerFaults): Promise<boolean> {
    const stalls = random() < stallRate;
    const delay = stalls ? stallMs : Math.floor(random() * maxDelayMs);
    if (stalls) faulted.stalled += 1;
    else if (delay > 0) faulted.delayed += 1;
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (stalls || random() >= failureRate) return false;
    faulted.failed += 1;
    return true;
  }

  /** The object a POST makes: of the path's kind, with the request's plain fields (amounts as numbers) and metadata. */
  function make(path: string, form: Record<string, string>): Record<string, unknown> {
    const base = Object.keys(OBJECTS).find((prefix) => path.startsWith(prefix));
    const object = base ? OBJECTS[base]! : 'unknown';
    const id = `${object.replace('.', '_')}_${++counter}`;
    const fields = Object.fromEntries(Object.entries(form).filter(([key]) => !key.includes('[')).map(([key, value]) => [key, /^(amount|amount_reversed)$/.test(key) ? Number(value) : value]));
    const metadata = Object.fromEntries(Object.entries(form).filter(([key]) => key.startsWith('metadata[')).map(([key, value]) => [key.slice(9, -1), value]));
    const extra = object === 'account_link' ? { url: `https://connect.stripe.com/setup/e/${form.account}/${counter}` } : object === 'transfer' ? { amount_reversed: 0, reversed: false } : {};
    const made = { id, object, livemode: false, ...fields, metadata, ...extra };
    if (path !== '/v1/account_links') created.push(made);
    return made;
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  if (options.keepProcessAlive === false) server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    requests,
    answers,
    faulted,
    /** Changes the faults from now on (none: a healthy API again). */
    setFaults: (next: StripeServerFaults | undefined) => {
      faults = next;
    },
    events,
    failures,
    created,
    /** Scripts the next request to "METHOD /path" to fail (see `ScriptedFailure`). */
    fail(route: string, failure: ScriptedFailure) {
      failures.set(route, [...(failures.get(route) ?? []), failure]);
    },
    /** The base URL to give a process that builds its own client (`--stripe-api-base`). */
    url: `http://127.0.0.1:${port}`,
    /** A real Stripe client pointed at this server (of another stripe-node major when given its class). */
    client: (StripeClass: new (key: string, config: object) => unknown = Stripe): Stripe =>
      new StripeClass('sk_test_local', { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0 }) as Stripe,
    /** Forgets everything recorded and scripted, as a server started afresh would; ids keep counting, so no two files' objects share one. */
    reset() {
      for (const list of [requests, events, created]) list.length = 0;
      for (const map of [answers, failures, idempotent]) map.clear();
      Object.assign(faulted, { delayed: 0, failed: 0, stalled: 0 });
      faults = options.faults;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One page of `events.list`: newest first, `created[gte]` and `types[]` applied, `starting_after` and `limit` honoured. */
function eventPage(events: readonly Stripe.Event[], query: Record<string, string>) {
  const gte = Number(query['created[gte]'] ?? 0);
  const types = Object.entries(query).filter(([key]) => key.startsWith('types[')).map(([, value]) => value);
  const listed = events
    .map((event, index) => ({ event, index }))
    .filter(({ event }) => event.created >= gte && (types.length === 0 || types.includes(event.type)))
    .sort((a, b) => b.event.created - a.event.created || b.index - a.index)
    .map(({ event }) => event);
  const after = query.starting_after ? listed.findIndex((event) => event.id === query.starting_after) + 1 : 0;
  const limit = Number(query.limit ?? 10);
  return { object: 'list', data: listed.slice(after, after + limit), has_more: after + limit < listed.length, url: '/v1/events' };
}

function refusal(failure: Extract<ScriptedFailure, { kind: 'refuse' }>): { status: number; body: string } {
  return { status: failure.status, body: JSON.stringify({ error: { type: failure.type ?? 'invalid_request_error', code: failure.code, message: failure.message } }) };
}
