import type { IncomingMessage } from 'node:http';

/**
 * The few facts about an incoming HTTP request the core needs, whatever the framework. Adapters
 * fill it from their own request object; nothing here is parsed by hand twice.
 */
export interface AttributionRequest {
  method: string;
  /** The full URL as the server received it, e.g. `http://shop.example/pricing?via=alice`. */
  url: string;
  /** Request headers; names are matched case-insensitively. */
  headers: Headers | Record<string, string | string[] | undefined>;
  /** The peer address of the connection (before any proxy headers). */
  remoteAddress?: string | undefined;
}

export function header(request: AttributionRequest, name: string): string | undefined {
  const { headers } = request;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * The request as Node's HTTP server received it, for the adapters of Node frameworks. `path` is
 * the original path and query (frameworks rewrite `req.url` when routers are mounted).
 */
export function fromNodeRequest(req: IncomingMessage, path = req.url ?? '/'): AttributionRequest {
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  return {
    method: req.method ?? 'GET',
    url: `${encrypted ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}${path}`,
    headers: req.headers,
    remoteAddress: req.socket.remoteAddress,
  };
}
