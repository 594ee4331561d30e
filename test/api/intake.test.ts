import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DIAL_TEMPLATE, dialTemplateProblem } from '../../src/intake/dial-template.js';
import { intakeBatch, intakeTask } from '../../src/intake/task-intake.js';
import { parseInstant } from '../../src/intake/timestamps.js';
import { NumberVault } from '../../src/security/number-vault.js';

const vault = new NumberVault({
  activeKeyId: 'k1',
  encryptionKeys: new Map([['k1', randomBytes(32)]]),
  indexKey: randomBytes(32),
});
let ids = 0;
const context = {
  vault,
  nowMs: Date.parse('2027-01-15T08:00:00Z'),
  tenantId: 'acme',
  campaign: { id: 'c1', defaultRegion: 'CN' },
  newTaskId: () => `t${ids++}`,
};

describe('dial templates', () => {
  it('accepts the default and carrier-style templates', () => {
    expect(dialTemplateProblem(DEFAULT_DIAL_TEMPLATE)).toBeUndefined();
    expect(dialTemplateProblem('sofia/gateway/{gateway}/+{number}@sip.carrier.example:5060')).toBeUndefined();
    expect(dialTemplateProblem('sofia/external/{number}@10.0.0.1')).toBeUndefined();
  });

  // Built from the pieces an injection would use, so that valid and invalid templates both occur often.
  const template = fc
    .array(
      fc.constantFrom(
        '{gateway}',
        '{number}',
        '{caller}',
        '{',
        '}',
        'sofia',
        '/',
        '@',
        ':',
        '+',
        ' ',
        '\r\n',
        ',',
        '=',
        '&',
        "'",
        'é',
      ),
      { maxLength: 12 },
    )
    .map((parts) => parts.join(''));

  it('never accepts a template that could carry anything beyond its alphabet and placeholders', () => {
    fc.assert(
      fc.property(template, (template) => {
        if (dialTemplateProblem(template) !== undefined) return;
        const literal = template.replaceAll('{gateway}', '').replaceAll('{number}', '');
        expect(literal).toMatch(/^[A-Za-z0-9_./@:+-]*$/);
        expect(template).toContain('{number}');
      }),
    );
  });
});

describe('task intake', () => {
  it('seals the number: only ciphertext, blind index and mask come out', () => {
    const verdict = intakeTask({ number: '138 0000 0001' }, context);
    expect(verdict.ok).toBe(true);
    if (!verdict.ok) return;
    expect(verdict.task.numberMasked).toBe('+8613*******01');
    expect(vault.decrypt(verdict.task.numberSealed)).toBe('+8613800000001');
    expect(verdict.task.numberIndex).toBe(vault.index('+8613800000001'));
    expect(JSON.stringify(verdict.task)).not.toContain('3800000001');
    expect(verdict.task).toMatchObject({
      priority: 0,
      notBefore: context.nowMs,
      expiresAt: null,
      variables: {},
    });
  });

  it('treats a past notBefore as now', () => {
    const verdict = intakeTask({ number: '+8613800000001', notBefore: '2020-01-01T00:00:00Z' }, context);
    expect(verdict.ok && verdict.task.notBefore).toBe(context.nowMs);
  });

  it('judges every batch item on its own', () => {
    const result = intakeBatch(
      [{ number: '+8613800000001' }, null, { number: '+1' }, { number: '+14155550100' }],
      context,
    );
    expect(result.accepted.map((a) => a.index)).toEqual([0, 3]);
    expect(result.rejected.map((r) => [r.index, r.error.code])).toEqual([
      [1, 'validation_failed'],
      [2, 'invalid_number'],
    ]);
  });

  it('reads only RFC 3339 instants with an offset', () => {
    expect(parseInstant('2027-01-15T08:00:00Z')).toBe(context.nowMs);
    expect(parseInstant('2027-01-15T16:00:00.000+08:00')).toBe(context.nowMs);
    expect(parseInstant('2027-01-15T08:00:00')).toBeUndefined();
    expect(parseInstant('2027-13-45T08:00:00Z')).toBeUndefined();
  });
});
