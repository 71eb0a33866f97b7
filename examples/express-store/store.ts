import express from 'express';
import type Stripe from 'stripe';
import type { Attribution } from 'stripe-attribution';
import { attributionMiddleware } from 'stripe-attribution/express';

/**
 * The example store: a landing page partners link to, a signup, and a checkout for a monthly plan.
 * Everything attribution needs is the middleware (mounted first), one `trackLead` at signup, and
 * creating the Checkout Session through the wrapped Stripe client.
 */
export function createStore({ attribution, stripe, priceId }: { attribution: Attribution; stripe: Stripe; priceId: string }) {
  const users = new Map<string, { id: string; email: string }>();

  const app = express();
  // First, before any body parser: partner clicks on every page, and POST /webhooks/stripe with its raw body.
  app.use(attributionMiddleware(attribution));
  app.use(express.json());

  app.get('/', (_req, res) => {
    res.type('html').send('<h1>Acme Pro</h1><p>$49.00 a month.</p><form method="post" action="/signup"><input name="email"><button>Sign up</button></form>');
  });

  app.post('/signup', async (req, res) => {
    const user = { id: `user_${users.size + 1}`, email: String(req.body.email) };
    users.set(user.id, user);
    // Credits the partner whose link the visitor followed (the cookie), once.
    const lead = await attribution.trackLead({ customerExternalId: user.id, email: user.email });
    res.json({ userId: user.id, partnerId: lead.customer.partnerId });
  });

  app.post('/checkout', async (req, res) => {
    // Your session would say who is signed in; the demo passes the user id along.
    const user = users.get(String(req.body.userId));
    if (!user) return void res.status(401).json({ error: 'Sign up first' });
    const origin = `${req.protocol}://${req.get('host')}`;
    // The wrapped client adds the visitor's click and your user id to the session and its subscription.
    const session = await attribution.wrapStripe(stripe, { customerKey: user.id }).checkout.sessions.create({
      mode: 'subscription',
      line_items: [{ price: priceId, quantity: 1 }],
      customer_email: user.email,
      success_url: `${origin}/thanks`,
      cancel_url: `${origin}/`,
    });
    res.json({ sessionId: session.id, url: session.url });
  });

  app.get('/thanks', (_req, res) => {
    res.type('html').send('<h1>Thank you!</h1>');
  });

  return app;
}
