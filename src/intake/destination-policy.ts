import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { DestinationPolicy } from '../store/contract.js';

/**
 * Fraud guards on where a tenant may call (OWASP API4: every call costs money). Applied per
 * item at intake, on the E.164 form, so one refused number never refuses its neighbours.
 * Messages never echo the number.
 */
export type DestinationRefusal = { code: 'destination_denied' | 'premium_rate_refused'; message: string };

/** Premium-rate refused, everything else allowed: what a tenant gets until told otherwise. */
export const DEFAULT_DESTINATION_POLICY: DestinationPolicy = {
  allowPrefixes: [],
  denyPrefixes: [],
  allowPremiumRate: false,
};

export function isPremiumRate(e164: string): boolean {
  return parsePhoneNumberFromString(e164)?.getType() === 'PREMIUM_RATE';
}

export function destinationRefusal(e164: string, policy: DestinationPolicy): DestinationRefusal | undefined {
  if (policy.denyPrefixes.some((prefix) => e164.startsWith(prefix))) {
    return { code: 'destination_denied', message: "the destination is in the tenant's denied prefixes" };
  }
  if (policy.allowPrefixes.length > 0 && !policy.allowPrefixes.some((prefix) => e164.startsWith(prefix))) {
    return { code: 'destination_denied', message: "the destination is not in the tenant's allowed prefixes" };
  }
  if (!policy.allowPremiumRate && isPremiumRate(e164)) {
    return { code: 'premium_rate_refused', message: 'premium-rate numbers are not enabled for this tenant' };
  }
  return undefined;
}
