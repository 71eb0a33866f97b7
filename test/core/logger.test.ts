import { describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import type { Logger } from '../../src/core/kernel/logger.js';

/** A pino-shaped logger that keeps what it was given. */
function recording(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (obj: object, msg?: string) => void lines.push(JSON.stringify({ obj, msg }));
  return { lines, error: keep, warn: keep, info: keep, debug: keep };
}

describe('logging', () => {
  it('a failure is logged through the merchant’s logger without secrets or full emails', async () => {
    const logger = recording();
    const attribution = createAttribution({
      database: 'memory://',
      webhookSecret: 'whsec_supersecretvalue123',
      logger,
      clicks: { ipSalt: 'salt' },
    });
    attribution.options.onError(
      new Error('Stripe said no to sk_live_51AbCdEfGhIjKlMnOp for zoe.buyer@example.com signed with whsec_supersecretvalue123'),
      'processing Stripe event evt_1',
    );
    const logged = logger.lines.join('\n');
    expect(logged).toContain('processing Stripe event evt_1 failed');
    expect(logged).toContain('z***@example.com');
    expect(logged).not.toContain('zoe.buyer@example.com');
    expect(logged).not.toContain('sk_live_51AbCdEfGhIjKlMnOp');
    expect(logged).not.toContain('whsec_supersecretvalue123');
    await attribution.close();
  });
});
