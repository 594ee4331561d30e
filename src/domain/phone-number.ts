import { type CountryCode, isSupportedCountry, parsePhoneNumberWithError } from 'libphonenumber-js/max';

/** A phone number the platform has checked: E.164 form plus what a dial template may need. */
export interface PhoneNumber {
  /** `+8613800000001` */
  e164: string;
  /** National significant number with the national prefix rules of its country, digits only. */
  national: string;
  country: string | undefined;
}

export class InvalidPhoneNumberError extends Error {
  override readonly name = 'InvalidPhoneNumberError';
  readonly code = 'invalid_number';
}

export function isRegionCode(value: string): value is CountryCode {
  return isSupportedCountry(value);
}

/**
 * Parses and validates a number as written by a business: E.164 (`+86…`) or national digits
 * read in `defaultRegion`. Numbers that cannot exist (wrong length, unallocated ranges known to
 * libphonenumber's metadata) are refused here rather than spent on a carrier (R1.4).
 */
export function parsePhoneNumber(input: string, defaultRegion: string | undefined): PhoneNumber {
  const text = input.trim();
  if (text.length === 0 || text.length > 32 || !/^[+\d][\d\s().-]*$/.test(text)) {
    throw new InvalidPhoneNumberError('a phone number is digits, optionally starting with +');
  }
  const region = defaultRegion && isRegionCode(defaultRegion) ? defaultRegion : undefined;
  let parsed: ReturnType<typeof parsePhoneNumberWithError>;
  try {
    parsed = parsePhoneNumberWithError(text, region);
  } catch (error) {
    throw new InvalidPhoneNumberError(
      region || text.startsWith('+')
        ? 'not a phone number'
        : 'a national number needs the campaign default region (or write it in E.164 with +)',
      { cause: error },
    );
  }
  if (!parsed.isValid()) throw new InvalidPhoneNumberError('not a valid, allocated phone number');
  return { e164: parsed.number, national: parsed.nationalNumber, country: parsed.country };
}

/** What logs and screens show: country code and the first and last digits only. */
export function maskPhoneNumber(e164: string): string {
  if (e164.length <= 6) return '*'.repeat(e164.length);
  const head = e164.startsWith('+') ? 5 : 4;
  const tail = 2;
  return e164.slice(0, head) + '*'.repeat(e164.length - head - tail) + e164.slice(-tail);
}
