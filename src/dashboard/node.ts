import type { IncomingMessage } from 'node:http';
import type { DashboardHandler } from './index.js';
import { fromWebResponse, toWebRequest } from '../core/http/node.js';

/**
 * What of a form the Node adapters hand the dashboard's `fetch`: the text a parser kept, the fields
 * it already read encoded again (a form is not signed, so re-encoding it is safe, unlike a
 * webhook), nothing when the stream was read and not kept, or `undefined`: the unread stream.
 */
function formBody(parsed: unknown, req: IncomingMessage): string | undefined {
  if (typeof parsed === 'string') return parsed;
  if (Buffer.isBuffer(parsed)) return parsed.toString('utf8');
  if (parsed !== null && typeof parsed === 'object') {
    return new URLSearchParams(Object.entries(parsed).filter((field): field is [string, string] => typeof field[1] === 'string')).toString();
  }
  return req.readableEnded ? '' : undefined;
}

/**
 * A Node framework's request through the dashboard's one web handler (`dashboard.fetch`), the
 * answer taken apart for the framework's reply; `undefined` for a path outside the dashboard.
 */
export async function serveDashboard<R>(
  dashboard: DashboardHandler<R>,
  req: IncomingMessage,
  path: string,
  parsedBody: unknown,
  native: R,
): Promise<Awaited<ReturnType<typeof fromWebResponse>> | undefined> {
  const response = await dashboard.fetch(toWebRequest(req, path, formBody(parsedBody, req)), native, { remoteAddress: req.socket?.remoteAddress });
  return response && fromWebResponse(response);
}
