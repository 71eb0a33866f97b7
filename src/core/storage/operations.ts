import { applicationStore } from './applications.js';
import { attributionEvidenceStore } from './attribution-evidence.js';
import { clickStore } from './clicks.js';
import { commissionStore } from './commissions.js';
import { customerStore } from './customers.js';
import { fraudStore } from './fraud.js';
import { invoicePaymentStore } from './invoice-payments.js';
import { milestoneStore } from './milestones.js';
import { outboxStore } from './outbox.js';
import { partnerProgramStore } from './partner-programs.js';
import { partnerStore } from './partners.js';
import { payoutStore } from './payouts.js';
import { payoutAccountStore } from './payout-accounts.js';
import { payoutTransferStore } from './payout-transfers.js';
import { reportStore } from './reports.js';
import type { Db } from './rows.js';
import { saleDisputeStore } from './sale-disputes.js';
import { saleRefundStore } from './sale-refunds.js';
import { saleStore } from './sales.js';
import { subscriptionStore } from './subscriptions.js';
import type { StorageOperations } from './types.js';
import { webhookEventStore } from './webhook-events.js';

/**
 * Every domain store on one database handle, as one object: on the storage's own handle each call
 * commits on its own, on a transaction's they all commit or roll back together.
 */
export function kyselyOperations(db: Db): StorageOperations {
  return {
    ...partnerStore(db),
    ...partnerProgramStore(db),
    ...clickStore(db),
    ...customerStore(db),
    ...saleStore(db),
    ...saleRefundStore(db),
    ...saleDisputeStore(db),
    ...invoicePaymentStore(db),
    ...subscriptionStore(db),
    ...commissionStore(db),
    ...payoutStore(db),
    ...payoutTransferStore(db),
    ...payoutAccountStore(db),
    ...reportStore(db),
    ...milestoneStore(db),
    ...webhookEventStore(db),
    ...attributionEvidenceStore(db),
    ...applicationStore(db),
    ...fraudStore(db),
    ...outboxStore(db),
  };
}
