import type { Attribution } from '../core/attribution.js';
import type { PayoutMethod } from '../core/partners/connect.js';
import { AttributionError } from '../core/kernel/errors.js';
import { html, type Html } from './html.js';

const STATE_LABEL: Record<PayoutMethod['state'], string> = {
  enabled: 'Stripe transfers enabled',
  onboarding: 'Stripe onboarding not finished',
  none: 'not connected',
};

/** Each partner's payout method and its state, for the merchant. */
export function payoutMethodsTable(methods: readonly PayoutMethod[]): Html {
  if (methods.length === 0) return html`<p>No partners yet.</p>`;
  return html`<div class="scroll" tabindex="0" role="region" aria-label="Payout methods table"><table>
<caption>How each partner is paid: by Stripe transfer once their account can receive them, else by CSV export</caption>
<thead><tr><th scope="col">Partner</th><th scope="col">Method</th><th scope="col">State</th><th scope="col">Stripe account</th><th scope="col">Country</th></tr></thead>
<tbody>${methods.map(
    (m) => html`<tr data-payout-method="${m.partnerId}"><th scope="row">${m.partnerName}</th><td data-field="method">${m.method === 'stripe' ? 'Stripe transfer' : 'CSV export'}</td>
<td data-field="state">${STATE_LABEL[m.state]}${m.transfersStatus && m.state !== 'enabled' ? html` <span class="muted">(transfers ${m.transfersStatus})</span>` : ''}</td><td>${m.stripeAccountId ? html`<code>${m.stripeAccountId}</code>` : html`<span class="muted">—</span>`}</td><td>${m.country ?? '—'}</td></tr>`,
  )}</tbody></table></div>`;
}

/**
 * The partner's "Get paid with Stripe" form in their portal (their signed portal token is its
 * authorization), or the state of their account once it can receive transfers.
 */
export function connectSection(method: PayoutMethod, action: string, token: string): Html {
  if (method.state === 'enabled') return html`<p data-field="payout-method">You are paid by Stripe transfer to your connected account.</p>`;
  const country = method.stripeAccountId
    ? html``
    : html`<label>Country of your bank account <input name="country" required pattern="[A-Za-z]{2}" maxlength="2" size="3" placeholder="US" autocomplete="country"></label> `;
  return html`<form method="post" action="${action}"><input type="hidden" name="token" value="${token}">${country}<button type="submit">${method.stripeAccountId ? 'Finish setting up Stripe' : 'Get paid with Stripe'}</button></form>`;
}

/**
 * Sends the partner to Stripe's hosted onboarding: a 303 to the account link, or the refusal to
 * show (a country that cannot receive transfers, a bad country code).
 */
export async function startOnboarding(
  attribution: Attribution,
  partnerId: string,
  request: { country?: string; portalUrl: string; refreshUrl: string },
): Promise<{ location: string } | { refused: string }> {
  try {
    const { url } = await attribution.connect.onboard(partnerId, {
      returnUrl: request.portalUrl,
      refreshUrl: request.refreshUrl,
      ...(request.country ? { country: request.country } : {}),
    });
    return { location: url };
  } catch (error) {
    if (error instanceof AttributionError) return { refused: error.message };
    throw error;
  }
}
