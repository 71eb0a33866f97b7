import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HANDLED_EVENT_TYPES } from '../../src/core/webhooks/event-handlers.js';

const EVENTS_DIR = fileURLToPath(new URL('../../src/core/webhooks/events/', import.meta.url));

describe('webhooks/events/', () => {
  it('holds one file per handled Stripe event type, named after it, and no file for a type not handled', () => {
    const files = readdirSync(EVENTS_DIR).filter((name) => name.endsWith('.ts')).sort();
    const expected = HANDLED_EVENT_TYPES.map((type) => `${type.replace(/[._]/g, '-')}.ts`).sort();
    expect(files).toEqual(expected);
  });
});
