import { ConfigurationError } from '../kernel/errors.js';

/**
 * The hosted attribution tools whose Stripe metadata `legacyKeys` reads, so a merchant moving from
 * one of them keeps the attribution their existing integration still writes (docs/MIGRATING.md).
 */
export const LEGACY_SOURCES = ['dub', 'rewardful', 'affitor', 'selgeo'] as const;
export type LegacySource = (typeof LEGACY_SOURCES)[number];

/** The `legacyKeys` option: every peer, some of them, or none. */
export type LegacyKeysOption = boolean | readonly LegacySource[];

export function resolveLegacyKeys(option: LegacyKeysOption | undefined): readonly LegacySource[] {
  if (option === undefined || option === false) return [];
  if (option === true) return LEGACY_SOURCES;
  const unknown = option.filter((source) => !(LEGACY_SOURCES as readonly string[]).includes(source));
  if (unknown.length) {
    throw new ConfigurationError(`legacyKeys: unknown source ${unknown.map((s) => `"${s}"`).join(', ')}; use true or a list of ${LEGACY_SOURCES.map((s) => `"${s}"`).join(', ')}`);
  }
  return [...new Set(option)];
}
