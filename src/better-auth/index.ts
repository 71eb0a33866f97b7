import type { BetterAuthPlugin, GenericEndpointContext, User } from 'better-auth';
import type Stripe from 'stripe';
import { attributionFromEnv, type Attribution } from '../core/attribution.js';

/**
 * better-auth: every user better-auth creates becomes a lead, credited to the partner whose link
 * the visitor came through. Sign-up by email, a social provider's callback, a magic link: whatever
 * route creates the user, the attribution cookie on that request is read.
 *
 * ```ts
 * betterAuth({ plugins: [attributionPlugin(attribution), stripe({ ..., onEvent: forwardStripeEvents(attribution) })] })
 * ```
 *
 * The lead is recorded once the user's row is committed (better-auth's `user.create.after`), with
 * your user id as `customerExternalId` (`sa_customer_key`). A failure to record it is reported to
 * the instance's `onError` and does not fail the sign-up: the user exists by then, and a later
 * sale still finds its partner through the checkout's click or the customer's email.
 *
 * With `@better-auth/stripe`, a verified event that `onEvent` could not process answers 500, not
 * that plugin's 400, so it is plainly a failure on your side (Stripe retries either).
 */
export function attributionPlugin(attribution: Attribution = attributionFromEnv()): BetterAuthPlugin {
  return {
    id: 'stripe-attribution',
    init: () => ({
      options: {
        databaseHooks: {
          user: {
            create: {
              after: async (user: User, ctx: GenericEndpointContext | null) => {
                try {
                  await attribution.trackLead({
                    customerExternalId: user.id,
                    email: user.email,
                    name: user.name || null,
                    clickId: clickOf(attribution, ctx),
                  });
                } catch (error) {
                  attribution.options.onError(error, `recording the better-auth sign-up of user ${user.id} as a lead`);
                }
              },
            },
          },
        },
      },
    }),
    onResponse: async (response) => {
      if (response.status !== 400 || !(await isFailedStripeEvent(response))) return;
      return { response: new Response(response.body, { status: 500, statusText: 'Internal Server Error', headers: response.headers }) };
    },
  };
}

/**
 * `@better-auth/stripe`'s `onEvent`: each event it verified on its webhook route is handed to
 * `attribution.handleEvent`, so one Stripe endpoint serves both; then to your own `onEvent`, if
 * any. A failure throws, so the delivery fails and Stripe retries it (processing is idempotent).
 */
export function forwardStripeEvents(
  attribution: Attribution = attributionFromEnv(),
  onEvent?: (event: Stripe.Event) => Promise<void>,
): (event: Stripe.Event) => Promise<void> {
  return async (event) => {
    await attribution.handleEvent(event);
    await onEvent?.(event);
  };
}

/**
 * The visitor's click: the middleware's context when better-auth runs behind it (it may have
 * captured a newer click in this very request), else the cookie of the request creating the user.
 */
function clickOf(attribution: Attribution, ctx: GenericEndpointContext | null): string | null {
  const context = attribution.context();
  if (context) return context.clickId;
  const headers = ctx?.headers ?? ctx?.request?.headers;
  if (!headers) return null;
  return attribution.readClickCookie({ method: ctx?.request?.method ?? 'POST', url: ctx?.request?.url ?? 'http://localhost/', headers });
}

/** `@better-auth/stripe`'s answer when an event passed its signature check but processing threw. */
async function isFailedStripeEvent(response: Response): Promise<boolean> {
  if (!response.headers.get('content-type')?.includes('application/json')) return false;
  const body = (await response.clone().json().catch(() => null)) as { code?: unknown } | null;
  return body?.code === 'STRIPE_WEBHOOK_ERROR';
}
