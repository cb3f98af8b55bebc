import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Detector } from '../../../shared/detect/detector.ts';
import { loadDefaultRules } from '../../../shared/detect/load-rules.ts';
import { CLOUDTRAIL_SOURCE } from '../../../shared/detect/log-sources.ts';
import { fromCloudTrailRecord } from '../../../shared/events/cloudtrail.ts';
import { CloudTrailMappingError } from '../../../shared/events/errors.ts';
import { fromKubernetesAuditEvent } from '../../../shared/events/kubernetes.ts';
import { sharedDataPath } from '../../support/shared-data.ts';
import {
  type FixtureCase,
  REFUSED_SHIPPED_RULES,
  REMOVE,
  SHIPPED_RULE_FIXTURES,
} from './shipped-rule-fixtures.ts';

const CLUSTER_ARN = 'arn:aws:eks:eu-west-1:123456789012:cluster/prod';
const shipped = loadDefaultRules();
const detector = new Detector(shipped.rules);
const files = new Map<string, string[]>();

/** The fixture's record: the referenced line or file, checked by name, with its edits applied. */
function recordOf(c: FixtureCase): Record<string, unknown> {
  const { data, line, name } = c.ref;
  let lines = files.get(data);
  if (lines === undefined) {
    const text = readFileSync(sharedDataPath(data), 'utf8');
    lines = line === undefined ? [text] : text.split('\n');
    files.set(data, lines);
  }
  const record = JSON.parse(lines[(line ?? 1) - 1]!) as Record<string, unknown>;
  expect(record['eventName'] ?? record['verb']).toBe(name);
  for (const [path, value] of Object.entries(c.edits ?? {})) setPath(record, path.split('.'), value);
  return record;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  const [head, ...rest] = path;
  if (rest.length === 0) {
    if (value === REMOVE) delete target[head!];
    else target[head!] = value;
    return;
  }
  const next = target[head!];
  const child = typeof next === 'object' && next !== null ? (next as Record<string, unknown>) : {};
  target[head!] = child;
  setPath(child, rest, value);
}

/**
 * The rule ids that fire on the record, through the path a stored event takes: a CloudTrail record is
 * mapped to an event (when it can be; Panther's fixtures with placeholder times cannot, and are then
 * evaluated as the record the event would keep), a Kubernetes Event through the Kubernetes mapping.
 */
function firingRules(c: FixtureCase): string[] {
  const record = recordOf(c);
  if (c.ref.data.startsWith('kubernetes/')) {
    return detector
      .detect(fromKubernetesAuditEvent(JSON.stringify(record), { clusterArn: CLUSTER_ARN }))
      .map((r) => r.source);
  }
  try {
    const input = fromCloudTrailRecord(JSON.stringify(record));
    const stored = { ...input, v: 1, receivedAt: '2026-01-01T00:00:00.000Z', channel: 'cloudtrail' };
    return detector.detect(stored).map((r) => r.source);
  } catch (error) {
    if (!(error instanceof CloudTrailMappingError)) throw error;
    return detector.detectSubject({ source: CLOUDTRAIL_SOURCE, record }).map((r) => r.source);
  }
}

describe('The shipped Sigma rules', () => {
  it('load, except the refusals docs/DETECTIONS.md lists, each for its reason', () => {
    // Assess
    expect(shipped.rules).toHaveLength(67);
    expect(Object.fromEntries(shipped.refused.map((r) => [r.file, r.error.code]))).toEqual(
      REFUSED_SHIPPED_RULES,
    );
  });

  it('each have a fixture with a true positive and a near miss', () => {
    // Prepare
    const fixtures = SHIPPED_RULE_FIXTURES.map((f) => f.rule).sort();

    // Assess
    expect(fixtures).toEqual(shipped.rules.map((r) => r.source).sort());
    for (const f of SHIPPED_RULE_FIXTURES) {
      expect(f.fires.length, f.rule).toBeGreaterThan(0);
      expect(f.quiet.length, f.rule).toBeGreaterThan(0);
      for (const c of [...f.fires, ...f.quiet]) expect(c.reason.length, f.rule).toBeGreaterThan(0);
    }
  });

  describe.each(SHIPPED_RULE_FIXTURES.map((f) => [f.rule, f] as const))('rule %s', (rule, fixture) => {
    it.each(fixture.fires.map((c) => [c.reason, c] as const))('fires: %s', (_reason, c) => {
      // Act and Assess
      expect(firingRules(c)).toContain(rule);
    });

    it.each(fixture.quiet.map((c) => [c.reason, c] as const))('stays quiet: %s', (_reason, c) => {
      // Act and Assess
      expect(firingRules(c)).not.toContain(rule);
    });
  });
});
