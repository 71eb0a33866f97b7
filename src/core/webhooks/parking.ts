/** The parking keys, spelled where the parked events are stored (the sale insert checks them too). */
export { parkingKeys, waitingForClick, waitingForInvoice, waitingForPayment } from '../storage/webhook-events.js';
