import { sql } from 'kysely';
import { FORGOTTEN_PREFIX, redactPayload } from './redaction.js';
import type { Db } from './rows.js';

/** Whom to forget: by the merchant's user id, email (a guest, a Payment Link buyer) or Stripe customer id. */
export type ForgetRequest = ({ externalId: string } | { email: string } | { stripeCustomerId: string }) & { livemode?: boolean };

/**
 * `Storage.forgetCustomer`: erases a customer's personal data across customers, clicks and parked
 * events in one transaction of its own, with the rows it changes locked (see `Storage` for what is
 * erased and what is kept).
 */
export function forgetCustomer(db: Db, request: ForgetRequest): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    const byId = await trx
      .selectFrom('customers')
      .select(['id', 'livemode', 'email', 'name', 'external_id'])
      .$call((q) =>
        'externalId' in request
          ? q.where('external_id', '=', request.externalId)
          : 'email' in request
            ? q.where('email', '=', request.email.trim().toLowerCase())
            : q.where('stripe_customer_id', '=', request.stripeCustomerId),
      )
      .$if(request.livemode !== undefined, (q) => q.where('livemode', '=', request.livemode!))
      .forUpdate()
      .execute();
    if (byId.length === 0) return [];
    const emails = byId.flatMap((row) => (row.email ? [row.email] : []));
    // The same person's purchases Stripe reported before they were linked to the user id.
    const byEmail =
      emails.length === 0
        ? []
        : await trx
            .selectFrom('customers')
            .select(['id', 'livemode', 'email', 'name', 'external_id'])
            .where('email', 'in', emails)
            .where('external_id', 'is', null)
            .where('livemode', 'in', [...new Set(byId.map((row) => row.livemode))])
            .forUpdate()
            .execute();
    const forgotten = [...byId, ...byEmail.filter((row) => !byId.some((found) => found.id === row.id))];
    const ids = forgotten.map((row) => row.id);

    await trx
      .updateTable('clicks')
      .set({ landing_url: null, referrer: null, user_agent: null, ip_hash: null, country: null })
      .where((eb) =>
        eb.or([
          eb('id', 'in', eb.selectFrom('customers').select('click_id').where('id', 'in', ids).where('click_id', 'is not', null)),
          eb('id', 'in', eb.selectFrom('sales').select('click_id').where('customer_id', 'in', ids).where('click_id', 'is not', null)),
        ]),
      )
      .execute();
    await trx
      .updateTable('customers')
      .set((eb) => ({ email: null, name: null, external_id: sql<string>`${FORGOTTEN_PREFIX} || ${eb.ref('id')}` }))
      .where('id', 'in', ids)
      .execute();

    const tombstones = new Map(forgotten.map((row) => [row.livemode, `${FORGOTTEN_PREFIX}${row.id}`]));
    const names = forgotten.flatMap((row) => (row.name ? [row.name] : []));
    const erasedEmails = forgotten.flatMap((row) => (row.email ? [row.email] : []));
    for (const parked of await trx.selectFrom('parked_events').select(['event_id', 'event']).forUpdate().execute()) {
      const livemode = (parked.event as { livemode?: boolean } | null)?.livemode === true;
      const externalIds = new Map(forgotten.flatMap((row) => (row.external_id && !row.external_id.startsWith(FORGOTTEN_PREFIX) ? [[row.external_id, tombstones.get(livemode) ?? null] as const] : [])));
      const redacted = redactPayload(parked.event, { emails: erasedEmails, names, externalIds });
      if (redacted !== undefined) await trx.updateTable('parked_events').set({ event: JSON.stringify(redacted) }).where('event_id', '=', parked.event_id).execute();
    }
    return ids;
  });
}
