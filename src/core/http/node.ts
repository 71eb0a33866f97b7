import type { IncomingMessage } from 'node:http';
import { fromNodeRequest } from '../request.js';

/**
 * The Fetch `Request` for a Node request, for the adapters of Node frameworks. `path` is the
 * original path and query (routers rewrite `req.url`). `body` is what a parser already kept of the
 * raw body (`express.raw()`, koa-bodyparser's `rawBody`); without it the unread stream is passed
 * on, never rebuilt from a parsed object (a re-serialised body fails its signature).
 */
export function toWebRequest(req: IncomingMessage, path?: string, body?: string | Uint8Array): Request {
  const { method, url } = fromNodeRequest(req, path);
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const bodyless = method === 'GET' || method === 'HEAD';
  return new Request(url, { method, headers, ...(bodyless ? {} : { body: body ?? streamOf(req), duplex: 'half' }) });
}

/**
 * The request's unread body as a web stream. Cancelling it (a body over its limit) only stops
 * reading, as raw-body does: destroying the request would close the socket before the 413 is sent.
 */
function streamOf(req: IncomingMessage): ReadableStream<Uint8Array> {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let open = true;
  const onData = (chunk: Buffer) => {
    controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    // Backpressure: hold the socket until the reader asks for more.
    if ((controller.desiredSize ?? 0) <= 0) req.pause();
  };
  const finish = (error?: Error) => {
    if (!open) return;
    open = false;
    req.off('data', onData);
    if (error) controller.error(error);
    else controller.close();
  };
  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      req.on('data', onData);
      req.once('end', () => finish());
      req.once('error', (error) => finish(error));
      // A client that hung up mid-body: the read fails instead of waiting forever.
      req.once('close', () => finish(req.readableEnded ? undefined : new Error('The request was aborted before its body was read')));
    },
    pull() {
      req.resume();
    },
    cancel() {
      open = false;
      req.off('data', onData);
      req.pause();
    },
  });
}

/** A Fetch `Response` taken apart for a framework's own reply: status, headers (every `Set-Cookie` kept), bytes. */
export async function fromWebResponse(response: Response): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  return { status: response.status, headers, body: Buffer.from(await response.arrayBuffer()) };
}
