// One app instance of the full chaos replay: the built package, imported by name as a merchant's
// app does, in a process of its own. The parent passes everything through the environment and
// reads the port from the first line this prints; it may kill it (SIGKILL) at any moment.
import express from 'express';
import Stripe from 'stripe';
import { createAttribution } from 'stripe-attribution';
import { attributionMiddleware } from 'stripe-attribution/express';

const { DATABASE_URL, CHAOS_SCHEMA, CHAOS_SECRET, CHAOS_NOW, CHAOS_OPTIONS, CHAOS_STRIPE_URL } = process.env;
const stripeApi = new URL(CHAOS_STRIPE_URL);
const attribution = createAttribution({
  database: DATABASE_URL,
  schema: CHAOS_SCHEMA,
  webhookSecret: CHAOS_SECRET,
  // The stand-in Stripe API; the SDK retries nothing itself, so a failed look-up fails the event.
  stripe: new Stripe('sk_test_chaos', { host: stripeApi.hostname, port: Number(stripeApi.port), protocol: 'http', maxNetworkRetries: 0 }),
  clicks: { ipSalt: 'chaos' },
  clock: () => new Date(Number(CHAOS_NOW) * 1000),
  // Injected faults are expected by the thousand; the parent counts them from the 5xx answers.
  onError: () => {},
  ...JSON.parse(CHAOS_OPTIONS),
});

const server = express().use(attributionMiddleware(attribution)).listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
process.on('SIGTERM', () => server.close(() => attribution.close().then(() => process.exit(0))));
