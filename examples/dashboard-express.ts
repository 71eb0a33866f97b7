import express from 'express';
import type { Attribution } from 'stripe-attribution';
import { attributionDashboard, attributionMiddleware } from 'stripe-attribution/express';

/** Your app with the dashboard at /admin/attribution, for admins only, and the partner portal beside it. */
export function appWithDashboard(attribution: Attribution, adminToken: string) {
  const app = express();
  app.use(attributionMiddleware(attribution));
  app.use(
    attributionDashboard(attribution, {
      basePath: '/admin/attribution',
      // Your own check: here a bearer token; usually `req.session.user?.isAdmin === true`.
      authorize: (req) => {
        const given = req.get('authorization');
        if (!given) throw Object.assign(new Error('Sign in first'), { status: 401 });
        return given === `Bearer ${adminToken}`;
      },
    }),
  );
  return app;
}
