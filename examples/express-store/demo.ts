/**
 * `npm run demo`: the whole journey of a partner sale, as real HTTP calls against the example store.
 *
 * With no Stripe keys it runs on its own: the store on embedded PGlite, and a local stand-in for
 * Stripe's API that sends the store signed webhooks. With STRIPE_SECRET_KEY (sk_test_…) and
 * STRIPE_WEBHOOK_SECRET set, the store talks to your Stripe test account instead (see README.md).
 *
 * `npm run demo -- --serve` seeds a realistic program instead (`seed.ts`: several partners, 90 days
 * of visits, signups, sales, renewals and refunds, through the stand-in) and keeps the store running
 * with the dashboard and the partner portal mounted, until Ctrl-C.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Stripe from 'stripe';
import { createAttribution } from 'stripe-attribution';
import { attributionDashboard } from 'stripe-attribution/express';
import { createStore } from './store.js';
import { seedProgram } from './seed.js';
import { money, reportTable } from './report-table.js';
import { startStripeStandIn } from './stripe-stand-in.js';

const realStripe = Boolean(process.env.STRIPE_SECRET_KEY && process.env.STRIPE_WEBHOOK_SECRET);
if (realStripe && !process.env.STRIPE_SECRET_KEY!.startsWith('sk_test_')) {
  console.error('The demo runs in Stripe test mode only: use an sk_test_… key.');
  process.exit(1);
}
const say = (line = '') => console.log(line);
const serve = process.argv.includes('--serve');
// `--days N`: a shorter history, for a quick look (and the test).
const daysFlag = process.argv.indexOf('--days');
const days = daysFlag === -1 ? 90 : Number(process.argv[daysFlag + 1]);
if (!Number.isInteger(days) || days < 1) {
  console.error('--days takes a whole number of days, e.g. --days 30');
  process.exit(1);
}
// `--data-dir DIR`: the embedded database in DIR (one no earlier demo wrote to) instead of a fresh temporary directory.
const dataDirFlag = process.argv.indexOf('--data-dir');
const dataDirArg = dataDirFlag === -1 ? undefined : process.argv[dataDirFlag + 1];
if (dataDirFlag !== -1 && (!dataDirArg || dataDirArg.startsWith('--'))) {
  console.error('--data-dir takes a directory, e.g. --data-dir ./demo-data');
  process.exit(1);
}
if (serve && realStripe) {
  console.error('--serve seeds its history through the local stand-in: run it without Stripe keys.');
  process.exit(1);
}
// The seeded history sets it back in time; otherwise it is the real time.
let seededNow: Date | undefined;
const clock = () => seededNow ?? new Date();

const standIn = realStripe ? undefined : await startStripeStandIn({ clock });
const stripe = new Stripe(realStripe ? process.env.STRIPE_SECRET_KEY! : 'sk_test_demo', standIn?.clientOptions ?? {});
const webhookSecret = realStripe ? process.env.STRIPE_WEBHOOK_SECRET! : 'whsec_demo_local';
const dataDir = dataDirArg ? resolve(dataDirArg) : mkdtempSync(join(tmpdir(), 'stripe-attribution-demo-'));

// Listening before the attribution instance exists, because partner portal links name the port.
let app: ReturnType<typeof createStore> | undefined;
const server: Server = createServer((req, res) => app!(req, res));
// With real Stripe, on port 3000 of every interface for `stripe listen`; else a free local port.
if (realStripe) server.listen(Number(process.env.PORT ?? 3000));
else server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const store = `http://${realStripe ? 'localhost' : '127.0.0.1'}:${(server.address() as AddressInfo).port}`;

const attribution = createAttribution({
  database: dataDir, // embedded PGlite; a Postgres URL in production
  webhookSecret,
  stripe,
  livemode: false, // Stripe test mode: kept apart from live data
  clicks: { ipSalt: 'demo-salt' },
  clock,
  portal: { secret: 'demo-portal-secret-not-for-production-0123', url: `${store}/attribution/portal` },
  program: {
    currency: 'usd',
    holdDays: 30,
    reward: { type: 'percent', percent: 30, duration: { months: 12 } },
    leadReward: { type: 'flat', amount: 200 },
  },
});
await attribution.migrate();

const priceId = realStripe ? await testModePrice(stripe) : 'price_pro';
app = createStore({ attribution, stripe, priceId });
standIn?.sendWebhooksTo(`${store}/webhooks/stripe`, webhookSecret);
if (serve) await seedAndServe();

say(`stripe-attribution demo: the Acme store at ${store}, on embedded PGlite in ${dataDir}`);
say(realStripe ? 'Stripe: your test-mode account.' : `Stripe: a local stand-in at ${standIn!.url} (no account, no network).`);
say();

const alice = await attribution.partners.create({ name: 'Alice', email: 'alice@partners.example', code: 'alice' });
say(`1. Alice joins the partner program. Her link: ${store}/?via=alice`);

const browser = { 'user-agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15' };
const visit = await fetch(`${store}/?via=alice`, { headers: browser });
const cookie = visit.headers.getSetCookie()[0]!.split(';')[0]!;
say(`2. Zoë follows the link: the store sets ${cookie.slice(0, 18)}… (a first-party cookie, 90 days).`);
await fetch(`${store}/?via=alice`, { headers: browser });
say('   Another visitor follows it too, and leaves.');

const signup = await post('/signup', { email: 'zoe@example.com' });
say(`3. Zoë signs up as zoe@example.com: a lead, credited to ${signup.partnerId === alice.id ? 'Alice' : 'nobody'}.`);

const checkout = await post('/checkout', { userId: signup.userId });
say(`4. She subscribes to Acme Pro ($49.00 a month): Checkout Session ${checkout.sessionId}, created through the wrapped`);
say('   Stripe client, carries her click and user id in its metadata and its subscription’s.');

if (realStripe) {
  say();
  say(`   Pay it in your browser with card 4242 4242 4242 4242: ${checkout.url}`);
  say('   Waiting for Stripe’s webhooks (is `stripe listen --forward-to localhost:3000/webhooks/stripe` running?)…');
  while ((await attribution.sales.list({ livemode: false })).length === 0) await new Promise((resolve) => setTimeout(resolve, 2000));
  say('5. Stripe delivered the payment: a sale, credited to Alice.');
  const [sale] = await attribution.sales.list({ livemode: false });
  if (sale?.stripePaymentIntentId) {
    await stripe.refunds.create({ payment_intent: sale.stripePaymentIntentId, amount: 1960 });
    say('6. Support refunds $19.60 of it; waiting for charge.refunded…');
    while (((await attribution.sales.list({ livemode: false }))[0]?.amountRefunded ?? 0) === 0) await new Promise((resolve) => setTimeout(resolve, 2000));
  }
} else {
  const paid = await fetch(checkout.url);
  say(`5. She pays. Stripe sends the store signed webhooks: ${deliveries()}; she lands on ${new URL(paid.url).pathname}.`);
  const [sale] = await attribution.sales.list({ livemode: false });
  await fetch(`${standIn!.url}/demo/renew`, { method: 'POST', body: new URLSearchParams({ subscription: sale!.stripeSubscriptionId! }) });
  say(`6. A month later the subscription renews: ${deliveries()}.`);
  const renewal = (await attribution.sales.list({ livemode: false })).find((s) => s.billingReason === 'subscription_cycle')!;
  await stripe.refunds.create({ payment_intent: renewal.stripePaymentIntentId!, amount: 1960 });
  say(`7. Support refunds $19.60 of the renewal through the Stripe API: ${deliveries()}.`);
}

say();
say('Commissions (30% of each payment for 12 months, $2.00 per new customer; 30 days on hold):');
for (const commission of await attribution.commissions.list({ partnerId: alice.id })) {
  say(`   ${commission.kind.padEnd(6)} ${money(commission.amount, commission.currency).padStart(7)}  ${commission.status}`);
}
say();
const now = new Date();
const rows = await attribution.report({
  from: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)),
  to: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 3, 1)),
  interval: 'month',
  livemode: false,
});
say('Partner report (test mode):');
say(reportTable(rows, (id) => (id === alice.id ? alice.name : id)));
say();
// Inside this repository the package is not installed, so `npx stripe-attribution` finds no bin: its script runs the CLI from source.
say(`The same report from the CLI, once this process has ended: npm run cli -- report --data-dir ${dataDir} --test`);
say('(in your own app, where the package is installed: npx stripe-attribution report …)');

await attribution.close();
server.closeAllConnections();
server.close();
await standIn?.close();

/** `--serve`: the seeded program, the dashboard and a partner's portal on localhost until Ctrl-C. */
async function seedAndServe(): Promise<never> {
  say(`stripe-attribution demo: seeding ${days} days of a partner program into embedded PGlite in ${dataDir}…`);
  const partners = await seedProgram({ attribution, store, standIn: standIn!.url, stripe, days, setClock: (at) => (seededNow = at) });
  // Only this machine may open it: the server listens on 127.0.0.1, and the dashboard checks too.
  const loopback = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
  app!.use(attributionDashboard(attribution, { authorize: (req) => loopback.has(req.socket.remoteAddress ?? ''), days }));
  const [sales, commissions] = [await attribution.sales.list({ livemode: false }), await attribution.commissions.list()];
  say(`Seeded ${partners.length} partners, ${sales.length} payments (${sales.filter((sale) => sale.amountRefunded > 0).length} refunded), ${commissions.length} commissions.`);
  say();
  say(`Dashboard:        ${store}/attribution/`);
  say(`${partners[0]!.name}'s portal: ${await attribution.partners.portalUrl(partners[0]!.id)}`);
  say(`The store:        ${store}/?via=${partners[0]!.codes[0]}`);
  say('Ctrl-C stops it.');
  await new Promise<void>((resolve) => {
    // \`on\`, not \`once\`: Ctrl-C reaches this process twice (from the terminal and relayed by tsx),
    // and a second SIGINT with no listener would kill it before the database is closed.
    process.on('SIGINT', () => resolve());
    process.on('SIGTERM', () => resolve());
  });
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await standIn!.close();
  await attribution.close();
  // Exit once the line is out: writes to a pipe are asynchronous, and exit() would drop them.
  process.stdout.write('Stopped: the server, the Stripe stand-in and the database are closed.\n', () => process.exit(0));
  return new Promise<never>(() => {});
}

/** A JSON POST to the store, as the visitor's browser (with its cookie) would send it. */
async function post(path: string, body: unknown): Promise<any> {
  const response = await fetch(`${store}${path}`, { method: 'POST', headers: { ...browser, cookie, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

/** The webhooks delivered since the last call, with the store's answers. */
function deliveries(): string {
  const sent = standIn!.deliveries.splice(0);
  return sent.map(({ type, status }) => `${type} → ${status}`).join(', ');
}

/** A $49.00 monthly price in the test account, made once and found again by its lookup key. */
async function testModePrice(client: Stripe): Promise<string> {
  const found = await client.prices.list({ lookup_keys: ['stripe_attribution_demo_pro'], limit: 1 });
  if (found.data[0]) return found.data[0].id;
  const price = await client.prices.create({
    currency: 'usd',
    unit_amount: 4900,
    recurring: { interval: 'month' },
    lookup_key: 'stripe_attribution_demo_pro',
    product_data: { name: 'Acme Pro (stripe-attribution demo)' },
  });
  return price.id;
}
