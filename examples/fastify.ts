import Fastify from 'fastify';
import Stripe from 'stripe';
import { createAttribution } from 'stripe-attribution';
import { attributionMiddleware } from 'stripe-attribution/fastify';

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);
export const attribution = createAttribution({
  database: process.env.DATABASE_URL, // omit for embedded PGlite in ./.stripe-attribution
  webhookSecret: process.env.STRIPE_WEBHOOK_SECRET,
  stripe,
});
await attribution.migrate();

export const app = Fastify();
await app.register(attributionMiddleware(attribution)); // clicks everywhere, POST /webhooks/stripe in its own scope

app.post<{ Body: { email: string } }>('/signup', async (req) => {
  const user = { id: `user_${Date.now()}`, email: req.body.email }; // your own signup
  const lead = await attribution.trackLead({ customerExternalId: user.id, email: user.email });
  return { userId: user.id, partnerId: lead.customer.partnerId };
});

if (process.env.NODE_ENV !== 'test') await app.listen({ port: 3000 });
