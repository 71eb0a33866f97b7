import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { createDashboard, MAX_FORM_BYTES, type DashboardOptions } from '../dashboard/index.js';
import { serveDashboard } from '../dashboard/node.js';
import fastifyPlugin from 'fastify-plugin';
import { attributionFromEnv, type Attribution } from '../core/attribution.js';
import { assertClickCaptureConfigured, assertWebhookConfigured } from '../core/options/resolve.js';
import { DEFAULT_WEBHOOK_PATH, serveWebhook } from '../core/http/webhook.js';
import { fromWebResponse, toWebRequest } from '../core/http/node.js';
import { fromNodeRequest } from '../core/clicks/request.js';
import { clickWithoutVisit } from '../core/clicks/capture.js';

export interface FastifyAttributionOptions {
  /**
   * Where Stripe posts webhooks. Default `/webhooks/stripe`. `false` mounts no webhook route (an
   * app that only captures clicks), and then needs no webhook secret.
   */
  webhookPath?: string | false;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The stripe-attribution instance registered by `attributionMiddleware()`. */
    attribution: Attribution;
  }
}

export type FastifyAttributionPlugin = FastifyPluginCallback & { attribution: Attribution };

/**
 * A Fastify plugin (4.x and 5.x): `app.register(attributionMiddleware(attribution))`. The click
 * hook applies to the whole app; the webhook route lives in a scope of its own whose raw-body
 * parser never reaches your routes.
 */
export function attributionMiddleware(
  attribution: Attribution = attributionFromEnv(),
  options: FastifyAttributionOptions = {},
): FastifyAttributionPlugin {
  const webhookPath = options.webhookPath ?? DEFAULT_WEBHOOK_PATH;
  assertClickCaptureConfigured(attribution.options);
  if (webhookPath !== false) assertWebhookConfigured(attribution.options);
  const settings = attribution.options.clicks;

  const plugin: FastifyPluginCallback = (fastify: FastifyInstance, _opts, done) => {
    fastify.decorate('attribution', attribution);

    // The rest of the request runs inside the context: Fastify carries it through body parsing
    // itself (an AsyncResource around its content-type parsers), so one hook is enough.
    fastify.addHook('onRequest', (request, reply, next) => {
      const { raw } = request;
      const known = clickWithoutVisit(settings, raw.method ?? 'GET', raw.url ?? '/', raw.headers.cookie);
      if (known !== undefined) {
        attribution.runInContext({ clickId: known }, next);
        return;
      }
      attribution.captureClick(fromNodeRequest(raw)).then(({ clickId, setCookie, programId }) => {
        if (setCookie) void reply.header('set-cookie', setCookie);
        attribution.runInContext({ clickId, programId }, next);
      }, next);
    });

    if (webhookPath !== false) {
      fastify.register((scope, _scopeOpts, registered) => {
        // Every content type reaches the handler unread (the core refuses all but JSON, and reads
        // at most webhooks.maxBodyBytes); this parser is scoped, so the app's routes keep theirs.
        scope.removeAllContentTypeParsers();
        scope.addContentTypeParser('*', (_request, payload, parsed) => parsed(null, payload));
        scope.post(webhookPath, async (request, reply) => {
          const { status, headers, body } = await fromWebResponse(await serveWebhook(attribution, toWebRequest(request.raw)));
          return reply.code(status).headers(headers).send(body);
        });
        registered();
      });
    }
    done();
  };

  return Object.assign(fastifyPlugin(plugin, { name: 'stripe-attribution', fastify: '4.x || 5.x' }), { attribution });
}

/**
 * The merchant dashboard and partner portal, server-rendered, as a plugin with routes of its own:
 * `app.register(attributionDashboard(attribution, { authorize: (request) => request.user?.isAdmin === true, basePath: '/admin/attribution' }))`.
 * Refuses to mount without `authorize`. Its form parser is scoped to the plugin.
 */
export function attributionDashboard(attribution: Attribution, options: DashboardOptions<FastifyRequest>): FastifyPluginCallback {
  const dashboard = createDashboard(attribution, options);
  return (fastify, _opts, done) => {
    fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: MAX_FORM_BYTES }, (_request, body, parsed) => parsed(null, body));
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const response = await serveDashboard(dashboard, request.raw, request.raw.url ?? '/', request.body, request);
      if (!response) return reply.callNotFound();
      return reply.code(response.status).headers(response.headers).send(response.body);
    };
    fastify.route({ method: ['GET', 'POST'], url: dashboard.basePath, handler });
    fastify.route({ method: ['GET', 'POST'], url: `${dashboard.basePath}/*`, handler });
    done();
  };
}
