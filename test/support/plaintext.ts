/**
 * Looking for phone numbers in clear where none may be (R1.10): database files and dumps, data
 * folders, logs. Each E.164 number is searched as its national digits (the E.164 form contains
 * them) and as its E.164 digits without "+" (a log might drop the sign).
 */
export function needlesFor(e164Numbers: readonly string[], countryCodeDigits = 2): string[] {
  return e164Numbers.flatMap((e164) => [e164.slice(1 + countryCodeDigits), e164.slice(1)]);
}

/** Where each needle occurs in each haystack: `needle in where`. */
export function occurrences(haystacks: Map<string, string>, needles: readonly string[]): string[] {
  const hits: string[] = [];
  for (const [where, text] of haystacks) {
    for (const needle of needles) if (text.includes(needle)) hits.push(`${needle} in ${where}`);
  }
  return hits;
}

/**
 * The same over log lines, less the fractional digits of JSON numbers: a timing such as
 * `"responseTime":0.9513910000005126` holds eleven digits in a row that are no one's number.
 */
export function logOccurrences(lines: readonly string[], needles: readonly string[]): string[] {
  const withoutFractions = (line: string) => line.replace(/([:,[]\s*-?\d+)\.\d+/g, '$1.#');
  return occurrences(
    new Map(lines.map((line, i) => [`log line ${i}: ${line.slice(0, 300)}`, withoutFractions(line)])),
    needles,
  );
}
