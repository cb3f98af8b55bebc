import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Detector } from '../../../shared/detect/detector.ts';
import { loadDefaultRules } from '../../../shared/detect/load-rules.ts';
import { CLOUDTRAIL_SOURCE } from '../../../shared/detect/log-sources.ts';
import { pinnedTexts } from '../../../shared/detect/rule-index.ts';
import { rule } from './rule-helpers.ts';

const SOURCES = ['s3.amazonaws.com', 'ec2.amazonaws.com', 'iam.amazonaws.com'];
const NAMES = ['PutBucketVersioning', 'DeleteBucket', 'RunInstances', 'CreateAccessKey'];

describe('Function: pinnedTexts', () => {
  it('pins a field through selections, and, and or-branches that all pin it', () => {
    // Prepare
    const r = rule(`
a:
  eventSource: S3.amazonaws.com
  eventName:
    - DeleteBucket
    - PutBucketVersioning
b:
  eventName: RunInstances
c:
  userAgent: x
condition: (a or b) and not c`);

    // Act and Assess
    expect(pinnedTexts(r, 'eventName')).toEqual(
      new Set(['deletebucket', 'putbucketversioning', 'runinstances']),
    );
    expect(pinnedTexts(r, 'eventSource')).toBeUndefined();
    expect(pinnedTexts(r, 'userAgent')).toBeUndefined();
  });

  it('does not pin a field through wildcards, modifiers or null', () => {
    // Act and Assess
    expect(pinnedTexts(rule("s:\n  eventName: 'Delete*'\ncondition: s"), 'eventName')).toBeUndefined();
    expect(
      pinnedTexts(rule("s:\n  eventName|startswith: 'Update'\ncondition: s"), 'eventName'),
    ).toBeUndefined();
    expect(pinnedTexts(rule('s:\n  eventName: null\ncondition: s'), 'eventName')).toBeUndefined();
  });
});

describe('Class: Detector (rule index)', () => {
  it('files most shipped rules under eventSource/eventName, and few in the fallback list', () => {
    // Act
    const stats = new Detector(loadDefaultRules().rules).stats();

    // Assess
    expect(stats.sources['cloudtrail']).toEqual({ indexed: 52, fallback: 4 });
    expect(stats.sources['kubernetes']).toEqual({ indexed: 10, fallback: 1 });
  });

  it('finds exactly what trying every rule finds (property)', () => {
    // Prepare: random rules over a small vocabulary, so that index keys collide and records match.
    const value = fc.oneof(
      fc.constantFrom(...SOURCES, ...NAMES),
      fc.constantFrom('Delete*', '*Bucket*', '?un*'),
    );
    const item = fc.record({
      field: fc.constantFrom('eventSource', 'eventName', 'userAgent'),
      modifier: fc.oneof(
        { weight: 4, arbitrary: fc.constant('') },
        { weight: 1, arbitrary: fc.constantFrom('|cased', '|contains', '|startswith') },
      ),
      values: fc.array(value, { minLength: 1, maxLength: 3 }),
    });
    const selection = fc.uniqueArray(item, {
      selector: (it) => it.field + it.modifier,
      minLength: 1,
      maxLength: 3,
    });
    const condition = fc.constantFrom(
      'a',
      'a and b',
      'a or b',
      'a and not b',
      'not a',
      '1 of them',
      'all of them',
      'not (a or b)',
    );
    const ruleSpec = fc.record({ a: selection, b: selection, condition });
    const text = fc.oneof(
      fc.constantFrom(...SOURCES, ...NAMES),
      fc.constantFrom('deletebucket', 'RUNINSTANCES'),
    );
    const field = fc.oneof(
      { weight: 6, arbitrary: text },
      { weight: 1, arbitrary: fc.array(text, { maxLength: 2 }) },
      { weight: 1, arbitrary: fc.constant(null) },
    );
    const record = fc.record(
      { eventSource: field, eventName: field, userAgent: field },
      { requiredKeys: [] },
    );

    fc.assert(
      fc.property(
        fc.array(ruleSpec, { minLength: 1, maxLength: 8 }),
        fc.array(record, { maxLength: 20 }),
        (specs, records) => {
          const rules = specs.map((spec, i) => {
            const block = (items: typeof spec.a) =>
              items
                .map(
                  (it) => `  ${it.field}${it.modifier}:\n${it.values.map((v) => `    - '${v}'`).join('\n')}`,
                )
                .join('\n');
            return rule(`a:\n${block(spec.a)}\nb:\n${block(spec.b)}\ncondition: ${spec.condition}`, {
              id: `r${i}`,
            });
          });
          const detector = new Detector(rules);

          for (const r of records) {
            const subject = { source: CLOUDTRAIL_SOURCE, record: r };

            // Act
            const indexed = detector.detectSubject(subject).map((m) => m.id);
            const everyRule = detector.detectWithoutIndex(subject).map((m) => m.id);

            // Assess
            expect(indexed).toEqual(everyRule);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
