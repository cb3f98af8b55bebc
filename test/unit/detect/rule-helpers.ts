/**
 * Small helpers for detection tests: a Sigma rule from a detection block, and one-rule detectors.
 */
import { Detector } from '../../../shared/detect/detector.ts';
import { SigmaRuleError } from '../../../shared/detect/errors.ts';
import {
  CLOUDTRAIL_SOURCE,
  type EventSource,
  KUBERNETES_SOURCE,
} from '../../../shared/detect/log-sources.ts';
import { parseSigmaRule, type SigmaRule } from '../../../shared/detect/sigma-rule.ts';

export const CLOUDTRAIL_LOGSOURCE = 'product: aws\n  service: cloudtrail';
export const KUBERNETES_LOGSOURCE = 'product: kubernetes\n  service: audit';

/** Indents every line of `block` by `spaces`. */
function indent(block: string, spaces: number): string {
  return block
    .trim()
    .split('\n')
    .map((line) => ' '.repeat(spaces) + line)
    .join('\n');
}

/** The text of a rule with the given detection block (YAML, without the `detection:` line). */
export function ruleText(detection: string, options: { logsource?: string; id?: string } = {}): string {
  return [
    'title: Test rule',
    `id: ${options.id ?? 'test-rule'}`,
    'status: test',
    'level: medium',
    'logsource:',
    `  ${options.logsource ?? CLOUDTRAIL_LOGSOURCE}`,
    'detection:',
    indent(detection, 2),
  ].join('\n');
}

export function rule(detection: string, options: { logsource?: string; id?: string } = {}): SigmaRule {
  return parseSigmaRule({ name: 'test.yml', text: ruleText(detection, options) });
}

/** True when the one rule matches `record` of `source` (CloudTrail unless said otherwise). */
export function matches(
  detection: string | SigmaRule,
  record: unknown,
  source: EventSource = CLOUDTRAIL_SOURCE,
): boolean {
  const r = typeof detection === 'string' ? rule(detection, sourceOptions(source)) : detection;
  return new Detector([r]).detectSubject({ source, record: record as Record<string, unknown> }).length === 1;
}

function sourceOptions(source: EventSource): { logsource?: string } {
  return source === KUBERNETES_SOURCE ? { logsource: KUBERNETES_LOGSOURCE } : {};
}

/** The error `parseSigmaRule` throws for a rule text; fails the test when it does not throw one. */
export function refusal(text: string): SigmaRuleError {
  try {
    parseSigmaRule({ name: 'test.yml', text });
  } catch (error) {
    if (error instanceof SigmaRuleError) return error;
    throw error;
  }
  throw new Error('the rule was not refused');
}
