/**
 * FreeSWITCH's URL decoding of text/event-plain header values (switch_utils.c switch_url_decode):
 * only "%XX" sequences are decoded — "+" stays "+" (unlike form decoding) — and the decoded bytes
 * are UTF-8. A "%" not followed by two hex digits is kept literally.
 */
const HEX = /^[0-9A-Fa-f]{2}$/;

export function urlDecode(value: string): string {
  if (value.indexOf('%') === -1) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    // Not valid percent-encoded UTF-8 (stray "%", broken sequence): decode byte-wise, as FreeSWITCH
    // does, and let invalid UTF-8 become U+FFFD rather than fail the whole event.
    return decodeBytewise(value);
  }
}

function decodeBytewise(value: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const pair = value.slice(i + 1, i + 3);
    if (value.charCodeAt(i) === 0x25 && HEX.test(pair)) {
      bytes.push(Number.parseInt(pair, 16));
      i += 2;
      continue;
    }
    for (const byte of Buffer.from(value[i]!, 'utf8')) bytes.push(byte);
  }
  return Buffer.from(bytes).toString('utf8');
}
