import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createKyselyStorage } from '../../../src/core/storage/kysely-storage.js';
import { backends, freshStorage } from '../../support/backends.js';
import { at, deferred } from './fixtures.js';

describe.each(backends())('webhook events storage contract on $name', (backend) => {
  describe('webhook events', () => {
    it('records an event id once; a repeat learns it is a repeat', async () => {
      const storage = await freshStorage(backend);
      const event = { id: 'evt_1', type: 'invoice.paid', livemode: true, apiVersion: '2025-03-31.basil', createdAt: at };
      expect(await storage.recordWebhookEvent(event)).toBe(true);
      expect(await storage.recordWebhookEvent(event)).toBe(false);
      expect(await storage.hasWebhookEvent('evt_1')).toBe(true);
    });

    it('the same event from two connections at the same time: one row, and the loser learns it lost', async () => {
      const storage = await freshStorage(backend);
      const second = createKyselyStorage({ db: backend.other(), schema: storage.layout.schema });
      const event = { id: 'evt_race', type: 'checkout.session.completed', livemode: true, apiVersion: null, createdAt: at };

      const firstInserted = deferred();
      const releaseFirst = deferred();
      const first = storage.transaction(async (tx) => {
        const won = await tx.recordWebhookEvent(event);
        firstInserted.resolve();
        await releaseFirst.promise;
        return won;
      });
      await firstInserted.promise;
      // The second copy starts while the first still holds its uncommitted row.
      const loser = second.transaction((tx) => tx.recordWebhookEvent(event));
      if (backend.concurrent) {
        // Prove the two really overlapped: the second waits on the first's row lock in Postgres
        // (its statement, named by this test's own schema: other files share the server).
        await expect.poll(async () => {
          const waiting = await sql<{ n: number }>`
            select count(*)::int as n from pg_stat_activity
            where wait_event_type = 'Lock' and position(${storage.layout.schema!} in query) > 0`.execute(backend.db);
          return waiting.rows[0]!.n;
        }).toBeGreaterThan(0);
      }
      releaseFirst.resolve();

      expect(await Promise.all([first, loser])).toEqual([true, false]);
      const rows = await sql<{ n: number }>`select count(*)::int as n from ${sql.id(storage.layout.schema!, 'sa_webhook_events')}`.execute(backend.db);
      expect(rows.rows[0]!.n).toBe(1);
    });

    it('many concurrent copies: exactly one wins', async () => {
      const storage = await freshStorage(backend);
      const event = { id: 'evt_many', type: 'invoice.paid', livemode: false, apiVersion: null, createdAt: at };
      const results = await Promise.all(
        Array.from({ length: 12 }, () => storage.transaction((tx) => tx.recordWebhookEvent(event))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('when the first copy rolls back, the waiting copy wins instead', async () => {
      const storage = await freshStorage(backend);
      const second = createKyselyStorage({ db: backend.other(), schema: storage.layout.schema });
      const event = { id: 'evt_rollback', type: 'invoice.paid', livemode: true, apiVersion: null, createdAt: at };
      const inserted = deferred();
      const fail = deferred();
      const first = storage.transaction(async (tx) => {
        await tx.recordWebhookEvent(event);
        inserted.resolve();
        await fail.promise;
        throw new Error('database went away mid-event');
      });
      await inserted.promise;
      const retry = second.transaction((tx) => tx.recordWebhookEvent(event));
      fail.resolve();
      await expect(first).rejects.toThrow('database went away mid-event');
      expect(await retry).toBe(true);
    });
  });

  describe('parked events', () => {
    it('parks, re-parks idempotently, and hands each event to one taker', async () => {
      const storage = await freshStorage(backend);
      await storage.parkEvent({ eventId: 'evt_refund', waitingFor: 'payment_intent:pi_1', event: { id: 'evt_refund', amount: 5 } });
      await storage.parkEvent({ eventId: 'evt_refund', waitingFor: 'payment_intent:pi_1', event: { id: 'evt_refund', amount: 5 } });
      await storage.parkEvent({ eventId: 'evt_other', waitingFor: 'invoice:in_9', event: { id: 'evt_other' } });
      expect(await storage.countParkedEvents()).toBe(2);

      expect(await storage.takeParkedEvents('payment_intent:nope')).toEqual([]);
      const [a, b] = await Promise.all([
        storage.transaction((tx) => tx.takeParkedEvents('payment_intent:pi_1')),
        storage.transaction((tx) => tx.takeParkedEvents('payment_intent:pi_1')),
      ]);
      const taken = [...a!, ...b!];
      expect(taken).toHaveLength(1);
      expect(taken[0]).toMatchObject({ eventId: 'evt_refund', event: { id: 'evt_refund', amount: 5 }, attempts: 0 });
      expect((await storage.takeParkedEvents()).map((e) => e.eventId)).toEqual(['evt_other']);
      expect(await storage.countParkedEvents()).toBe(0);
    });

    it('a rolled-back take puts the event back', async () => {
      const storage = await freshStorage(backend);
      await storage.parkEvent({ eventId: 'evt_back', waitingFor: 'x', event: {} });
      await expect(
        storage.transaction(async (tx) => {
          expect(await tx.takeParkedEvents('x')).toHaveLength(1);
          throw new Error('handler failed');
        }),
      ).rejects.toThrow('handler failed');
      expect(await storage.countParkedEvents()).toBe(1);
    });
  });
});
