/**
 * A line's dial template, e.g. `sofia/gateway/{gateway}/{number}`, becomes part of an originate
 * command on the switch. It is checked here, where it is written, so that nothing but the two
 * known placeholders and a small set of literal characters can ever reach the wire (no spaces,
 * braces, quotes, commas or CR/LF that could inject channel variables or a second command).
 * Kept independent of the ESL client: the client re-checks what it sends.
 */
export const DEFAULT_DIAL_TEMPLATE = 'sofia/gateway/{gateway}/{number}';

const PLACEHOLDERS = new Set(['gateway', 'number']);
const LITERAL = /^[A-Za-z0-9_./@:+-]*$/;
const MAX_LENGTH = 256;

/** Returns why the template is unusable, or undefined when it is fine. */
export function dialTemplateProblem(template: string): string | undefined {
  if (template.length === 0 || template.length > MAX_LENGTH) {
    return `a dial template is 1 to ${MAX_LENGTH} characters`;
  }
  let hasNumber = false;
  for (const part of template.split(/(\{[^{}]*\})/)) {
    if (part.startsWith('{') && part.endsWith('}')) {
      const name = part.slice(1, -1);
      if (!PLACEHOLDERS.has(name)) return `unknown placeholder ${part}: only {gateway} and {number}`;
      if (name === 'number') hasNumber = true;
    } else if (!LITERAL.test(part)) {
      return 'literal text may only use letters, digits and _ . / @ : + -';
    }
  }
  return hasNumber ? undefined : 'a dial template must contain {number}';
}
