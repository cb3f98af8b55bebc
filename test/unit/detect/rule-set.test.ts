import { describe, expect, it } from 'vitest';
import {
  buildRuleSet,
  DEFAULT_RULES_DIR,
  loadDefaultRules,
  RuleSetError,
  readRuleFolder,
} from '../../../shared/detect/load-rules.ts';
import { ruleText } from './rule-helpers.ts';

const shipped = readRuleFolder(DEFAULT_RULES_DIR);
const BACKDOOR_KEYS = '0a5177f4-6ca9-44c2-aacf-d3f3d8b6e4d2';

function failure(act: () => unknown): RuleSetError {
  try {
    act();
  } catch (error) {
    if (error instanceof RuleSetError) return error;
    throw error;
  }
  throw new Error('buildRuleSet did not throw');
}

describe('Function: buildRuleSet', () => {
  it('runs the shipped rules and accepts their documented refusals', () => {
    // Act
    const set = buildRuleSet({ shipped });

    // Assess
    expect(set.rules).toHaveLength(loadDefaultRules().rules.length);
    expect(set.refusedShipped.map((r) => r.file)).toEqual(loadDefaultRules().refused.map((r) => r.file));
  });

  it('adds an operator’s valid rules and leaves out the disabled ids', () => {
    // Prepare
    const operator = [
      {
        name: 'operator/ssh.yml',
        text: ruleText('sel:\n  eventName: SendSSHPublicKey\ncondition: sel', { id: 'ops-ssh' }),
      },
    ];

    // Act
    const set = buildRuleSet({ shipped, operator, disabled: [BACKDOOR_KEYS] });

    // Assess
    expect(set.rules.some((r) => r.id === 'ops-ssh')).toBe(true);
    expect(set.rules.some((r) => r.id === BACKDOOR_KEYS)).toBe(false);
    expect(set.disabled.map((r) => r.id)).toEqual([BACKDOOR_KEYS]);
  });

  describe('when an operator’s rule is refused', () => {
    it.each([
      [
        'an unsupported modifier',
        ruleText('sel:\n  eventName|base64: x\ncondition: sel', { id: 'ops-1' }),
        'UNSUPPORTED',
      ],
      [
        'a shipped rule’s id',
        ruleText('sel:\n  eventName: x\ncondition: sel', { id: BACKDOOR_KEYS }),
        'DUPLICATE_RULE_ID',
      ],
      ['not YAML', 'title: [', 'operator/bad.yml'],
    ])('throws for %s, naming the file and the reason', (_, text, expected) => {
      // Act
      const error = failure(() => buildRuleSet({ shipped, operator: [{ name: 'operator/bad.yml', text }] }));

      // Assess
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]).toContain('operator/bad.yml');
      expect(error.message).toContain(expected);
    });
  });

  describe('when a disabled id names no rule (a typo)', () => {
    it('throws, naming it', () => {
      expect(failure(() => buildRuleSet({ shipped, disabled: ['no-such-rule'] })).message).toContain(
        'no-such-rule',
      );
    });
  });
});
