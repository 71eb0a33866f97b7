import { AttributionError, CrossBorderError } from '../kernel/errors.js';

/**
 * Where Stripe lets a platform transfer across borders (self-serve cross-border payouts): a
 * platform in any of these countries can transfer to a connected account in any other of them,
 * under the `recipient` service agreement. The US, Canada, the UK, Switzerland and the EEA.
 * https://docs.stripe.com/connect/cross-border-payouts
 */
const CROSS_BORDER = new Set([
  'US', 'CA', 'GB', 'CH',
  // EEA: the EU, Iceland, Liechtenstein and Norway.
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE',
  'IS', 'LI', 'NO',
]);

/**
 * The service agreement a partner in `partnerCountry` needs to receive transfers from a platform
 * in `platformCountry`: `full` in the same country, `recipient` across borders within the
 * cross-border region. Anywhere else, `CrossBorderError`.
 */
export function serviceAgreement(platformCountry: string, partnerCountry: string): 'full' | 'recipient' {
  const platform = countryCode(platformCountry, 'the platform country');
  const partner = countryCode(partnerCountry, 'country');
  if (platform === partner) return 'full';
  if (CROSS_BORDER.has(platform) && CROSS_BORDER.has(partner)) return 'recipient';
  throw new CrossBorderError(platform, partner);
}

export function countryCode(value: string, what: string): string {
  const code = value.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(code)) throw new AttributionError(`${what} must be a two-letter ISO country code (e.g. US, GB, DE), not "${value}"`);
  return code;
}
