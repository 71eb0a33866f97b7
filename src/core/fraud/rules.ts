import { isBot } from '../clicks/bots.js';
import type { FraudContext, ResolvedFraud } from '../options/fraud-options.js';
import type { Customer, FraudFlag, Partner, Sale, StorageOperations } from '../storage/types.js';
import { emailDomain, isDisposableDomain, normaliseEmail } from './emails.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Browser engines' tell-tales of a driven or headless browser, which the click capture still records. */
const DRIVEN = /headless|electron|puppeteer|playwright|selenium|webdriver|phantomjs|nightmare|cypress|zombie/i;

/** A user agent no person's browser sends: none, a bot's, a driven browser's, or not a browser's at all. */
export function looksAutomated(userAgent: string | null): boolean {
  return !userAgent || isBot(userAgent) || DRIVEN.test(userAgent) || !/^(Mozilla|Opera)\//.test(userAgent);
}

/**
 * The flags the fraud rules raise on a new sale commission, read inside the sale's transaction:
 * the built-ins in order, then the merchant's own. The database is asked once, and only when a
 * rule needs more than the sale, its customer and its partner. A customer whose flagged commission
 * the merchant cleared is not flagged again by the rules about the customer; the partner's refund
 * rate and custom rules still apply.
 */
export async function fraudFlags(tx: StorageOperations, fraud: ResolvedFraud, sale: Sale, partner: Partner, customer: Customer): Promise<FraudFlag[]> {
  const refundWindow = (fraud.refundRate?.days ?? 0) * DAY_MS;
  const evidence = fraud.needsEvidence
    ? await tx.readFraudEvidence({
        livemode: sale.livemode,
        partnerId: partner.id,
        customerId: customer.id,
        saleId: sale.id,
        clickId: sale.clickId,
        cardFingerprint: sale.cardFingerprint,
        clickWindowMs: HOUR_MS,
        refundSince: new Date(sale.occurredAt.getTime() - refundWindow),
        refundUntil: sale.occurredAt,
      })
    : null;
  const context: FraudContext = { sale, partner, customer, click: evidence?.click ?? null, evidence };
  const flags: FraudFlag[] = [];
  const flag = (rule: string, reason: string) => flags.push({ rule, reason });

  if (!evidence?.clearedBefore) {
    if (fraud.selfReferral && partner.email && customer.email && normaliseEmail(partner.email) === normaliseEmail(customer.email)) {
      flag('selfReferral', "The buyer's email is the partner's own address, written differently");
    }
    const domain = customer.email ? emailDomain(customer.email) : null;
    const disposable = fraud.disposableEmail;
    if (disposable && domain && !disposable.allow.has(domain) && (disposable.block.has(domain) || (await isDisposableDomain(domain)))) {
      flag('disposableEmail', `The buyer's email is at a throwaway domain (${domain})`);
    }
    const click = context.click;
    if (fraud.clickFlood && click?.ipHash && evidence!.clicksFromIp > fraud.clickFlood.perHour) {
      flag('clickFlood', `${evidence!.clicksFromIp} clicks on the partner's links from the buyer's IP address within an hour of their click (more than ${fraud.clickFlood.perHour})`);
    }
    const quick = fraud.quickPurchase;
    if (quick && click) {
      const seconds = (sale.occurredAt.getTime() - click.createdAt.getTime()) / 1000;
      if (seconds < quick.seconds && (quick.automated ?? looksAutomated)(click.userAgent)) {
        flag('quickPurchase', `Paid ${Math.max(0, Math.round(seconds))} s after the click, from a client that looks automated (${click.userAgent ?? 'no user agent'})`);
      }
    }
    const shared = fraud.sharedIdentity;
    if (shared && evidence) {
      if (sale.cardFingerprint && evidence.customersSharingCard + 1 >= shared.cards) {
        flag('sharedIdentity', `${evidence.customersSharingCard + 1} of the partner's customers paid with the same card`);
      }
      if (click?.ipHash && evidence.customersSharingIp + 1 >= shared.ips) {
        flag('sharedIdentity', `${evidence.customersSharingIp + 1} of the partner's customers came from the same IP address`);
      }
    }
  }
  const refunds = fraud.refundRate;
  if (refunds && evidence && evidence.partnerSales >= refunds.minSales && evidence.partnerRefundedSales / evidence.partnerSales > refunds.rate) {
    const percent = Math.round((100 * evidence.partnerRefundedSales) / evidence.partnerSales);
    flag('refundRate', `${percent} % of the partner's ${evidence.partnerSales} sales in the last ${refunds.days} days were refunded (more than ${Math.round(refunds.rate * 100)} %)`);
  }
  for (const rule of fraud.custom) {
    const raised = rule(context);
    if (raised) flags.push({ rule: raised.rule, reason: raised.reason });
  }
  return flags;
}
