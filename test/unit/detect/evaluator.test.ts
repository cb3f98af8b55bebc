import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Detector } from '../../../shared/detect/detector.ts';
import { UnsupportedSigmaFeatureError } from '../../../shared/detect/errors.ts';
import { CLOUDTRAIL_SOURCE, KUBERNETES_SOURCE } from '../../../shared/detect/log-sources.ts';
import { matches, refusal, rule, ruleText } from './rule-helpers.ts';

const versioning = {
  eventSource: 's3.amazonaws.com',
  eventName: 'PutBucketVersioning',
  userAgent: 'aws-cli/2.13.0 Python/3.11.4',
  requestParameters: { bucketName: 'critical', VersioningConfiguration: { Status: 'Suspended' } },
};

describe('Class: Detector (Sigma semantics)', () => {
  describe('Method: detectSubject, plain values', () => {
    it('matches a value case-insensitively, as Sigma does by default', () => {
      // Prepare
      const detection = 'selection:\n  eventName: putbucketversioning\ncondition: selection';

      // Act
      const hit = matches(detection, versioning);

      // Assess
      expect(hit).toBe(true);
    });

    it('ORs a value list and ANDs the members of a selection', () => {
      // Prepare
      const detection = `
selection:
  eventSource: s3.amazonaws.com
  eventName:
    - DeleteBucket
    - PutBucketVersioning
condition: selection`;

      // Act and Assess
      expect(matches(detection, versioning)).toBe(true);
      expect(matches(detection, { ...versioning, eventName: 'GetObject' })).toBe(false);
      expect(matches(detection, { ...versioning, eventSource: 'ec2.amazonaws.com' })).toBe(false);
    });

    it('ORs the maps of a selection list', () => {
      // Prepare
      const detection = `
filter:
  - eventSource: ssm.amazonaws.com
  - sourceIPAddress: AWS Internal
condition: filter`;

      // Act and Assess
      expect(matches(detection, { eventSource: 'ssm.amazonaws.com', sourceIPAddress: '1.2.3.4' })).toBe(true);
      expect(matches(detection, { eventSource: 'ec2.amazonaws.com', sourceIPAddress: 'AWS Internal' })).toBe(
        true,
      );
      expect(matches(detection, { eventSource: 'ec2.amazonaws.com', sourceIPAddress: '1.2.3.4' })).toBe(
        false,
      );
    });

    it('compares numbers and booleans as text', () => {
      // Prepare
      const code = 'selection:\n  responseStatus.code:\n    - 401\n    - 403\ncondition: selection';
      const enable = "selection:\n  requestParameters.enable: 'false'\ncondition: selection";

      // Act and Assess
      expect(matches(code, { responseStatus: { code: 403 } }, KUBERNETES_SOURCE)).toBe(true);
      expect(matches(code, { responseStatus: { code: 200 } }, KUBERNETES_SOURCE)).toBe(false);
      expect(matches(enable, { requestParameters: { enable: false } })).toBe(true);
      expect(matches(enable, { requestParameters: { enable: true } })).toBe(false);
      expect(matches(enable, { requestParameters: { enable: 'FALSE' } })).toBe(true);
    });

    it('resolves dotted names through nested objects and arrays', () => {
      // Prepare
      const detection = `
selection:
  requestParameters.containerDefinitions.command|contains: $AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
condition: selection`;
      const record = {
        requestParameters: {
          containerDefinitions: [
            { command: ['sh', '-c', 'echo hi'] },
            { command: ['sh', '-c', 'curl 169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'] },
          ],
        },
      };

      // Act and Assess
      expect(matches(detection, record)).toBe(true);
      expect(matches(detection, { requestParameters: { containerDefinitions: [{ command: ['ls'] }] } })).toBe(
        false,
      );
    });

    it('searches an object-valued field through its scalar leaves', () => {
      // Prepare
      const detection = "selection:\n  requestParameters|contains: 'Suspended'\ncondition: selection";

      // Act and Assess
      expect(matches(detection, versioning)).toBe(true);
      expect(
        matches(detection, { requestParameters: { VersioningConfiguration: { Status: 'Enabled' } } }),
      ).toBe(false);
    });

    it('finds member names that contain dots', () => {
      // Prepare
      const detection =
        'selection:\n  annotations.authorization.k8s.io/decision: forbid\ncondition: selection';
      const record = { annotations: { 'authorization.k8s.io/decision': 'forbid' } };

      // Act and Assess
      expect(matches(detection, record, KUBERNETES_SOURCE)).toBe(true);
      expect(
        matches(detection, { annotations: { 'authorization.k8s.io/decision': 'allow' } }, KUBERNETES_SOURCE),
      ).toBe(false);
    });

    it('never reads inherited members', () => {
      // Prepare
      const detection = "selection:\n  userIdentity.toString|contains: 'function'\ncondition: selection";

      // Act and Assess
      expect(matches(detection, { userIdentity: {} })).toBe(false);
    });
  });

  describe('Method: detectSubject, wildcards and escapes', () => {
    it.each([
      ['Stop*', 'StopLogging', true],
      ['*Logging', 'StopLogging', true],
      ['*opLog*', 'StopLogging', true],
      ['Stop?ogging', 'StopLogging', true],
      ['Stop?ogging', 'StopLLogging', false],
      ['S*L*g', 'StopLogging', true],
      ['S*X*g', 'StopLogging', false],
      ['*', '', true],
      ['a\\*b', 'a*b', true],
      ['a\\*b', 'axb', false],
      ['a\\?b', 'a?b', true],
      ['C:\\Windows', 'c:\\windows', true],
      ['a\\\\*', 'a\\anything', true],
    ])('the value %j matches %j: %s', (value, text, expected) => {
      // Prepare
      const detection = `selection:\n  eventName: '${value}'\ncondition: selection`;

      // Act and Assess
      expect(matches(detection, { eventName: text })).toBe(expected);
    });
  });

  describe('Method: detectSubject, modifiers', () => {
    it('contains, startswith and endswith put wildcards around, after and before the value', () => {
      // Prepare
      const rules = {
        contains: "selection:\n  userAgent|contains: 'cli/2'\ncondition: selection",
        startswith: "selection:\n  userAgent|startswith: 'AWS-CLI'\ncondition: selection",
        endswith: "selection:\n  userAgent|endswith: '3.11.4'\ncondition: selection",
      };

      // Act and Assess
      for (const detection of Object.values(rules)) expect(matches(detection, versioning)).toBe(true);
      expect(matches(rules.startswith, { userAgent: 'x aws-cli' })).toBe(false);
      expect(matches(rules.endswith, { userAgent: '3.11.4 x' })).toBe(false);
    });

    it('all ANDs the value list', () => {
      // Prepare
      const detection = `
selection:
  requestParameters|contains|all:
    - '"s3:GetObject"'
    - '"Allow"'
condition: selection`;
      const both = { requestParameters: { policyDocument: '{"Effect":"Allow","Action":"s3:GetObject"}' } };
      const one = { requestParameters: { policyDocument: '{"Effect":"Deny","Action":"s3:GetObject"}' } };

      // Act and Assess
      expect(matches(detection, both)).toBe(true);
      expect(matches(detection, one)).toBe(false);
    });

    it('re is a case-sensitive, unanchored search; i makes it case-insensitive', () => {
      // Prepare
      const sensitive = "selection:\n  userIdentity.arn|re: ':assumed-role/aws:'\ncondition: selection";
      const insensitive = "selection:\n  userIdentity.arn|re|i: ':ASSUMED-ROLE/aws:'\ncondition: selection";
      const arn = { userIdentity: { arn: 'arn:aws:sts::1:assumed-role/aws:ec2-infrastructure/i-1' } };

      // Act and Assess
      expect(matches(sensitive, arn)).toBe(true);
      expect(matches(sensitive, { userIdentity: { arn: 'arn:aws:sts::1:ASSUMED-ROLE/aws:x' } })).toBe(false);
      expect(matches(insensitive, arn)).toBe(true);
    });

    it('exists checks presence, a null member included', () => {
      // Prepare
      const present = 'selection:\n  errorCode|exists: true\ncondition: selection';
      const absent = 'selection:\n  errorCode|exists: false\ncondition: selection';

      // Act and Assess
      expect(matches(present, { errorCode: 'AccessDenied' })).toBe(true);
      expect(matches(present, { errorCode: null })).toBe(true);
      expect(matches(present, {})).toBe(false);
      expect(matches(absent, {})).toBe(true);
      expect(matches(absent, { errorCode: '' })).toBe(false);
    });

    it('cidr matches addresses of its family inside the network', () => {
      // Prepare
      const v4 = "selection:\n  sourceIPAddress|cidr: '10.0.0.0/8'\ncondition: selection";
      const v6 = "selection:\n  sourceIPAddress|cidr: '2001:db8::/32'\ncondition: selection";

      // Act and Assess
      expect(matches(v4, { sourceIPAddress: '10.200.3.4' })).toBe(true);
      expect(matches(v4, { sourceIPAddress: '11.0.0.1' })).toBe(false);
      expect(matches(v4, { sourceIPAddress: '::ffff:10.0.0.1' })).toBe(false);
      expect(matches(v4, { sourceIPAddress: 'cloudformation.amazonaws.com' })).toBe(false);
      expect(matches(v6, { sourceIPAddress: '2001:db8:ffff::1' })).toBe(true);
      expect(matches(v6, { sourceIPAddress: '2001:db9::1' })).toBe(false);
    });

    it('fieldref compares two fields of the same record', () => {
      // Prepare
      const equal =
        'filter:\n  userIdentity.userName|fieldref: requestParameters.userName\ncondition: filter';
      const contained =
        'filter:\n  userIdentity.arn|fieldref|endswith: requestParameters.userName\ncondition: filter';
      const record = {
        userIdentity: { userName: 'Bob', arn: 'arn:aws:iam::1:user/bob' },
        requestParameters: { userName: 'bob' },
      };

      // Act and Assess
      expect(matches(equal, record)).toBe(true);
      expect(matches(equal, { ...record, requestParameters: { userName: 'alice' } })).toBe(false);
      expect(matches(contained, record)).toBe(true);
      expect(matches(equal, { userIdentity: { userName: 'bob' } })).toBe(false);
    });

    it('cased makes the comparison case-sensitive', () => {
      // Prepare
      const detection = 'selection:\n  eventName|cased: ConsoleLogin\ncondition: selection';

      // Act and Assess
      expect(matches(detection, { eventName: 'ConsoleLogin' })).toBe(true);
      expect(matches(detection, { eventName: 'consolelogin' })).toBe(false);
    });

    it('null matches an absent or null field, never an empty string', () => {
      // Prepare
      const detection = 'selection:\n  errorCode: null\ncondition: selection';

      // Act and Assess
      expect(matches(detection, {})).toBe(true);
      expect(matches(detection, { errorCode: null })).toBe(true);
      expect(matches(detection, { errorCode: '' })).toBe(false);
      expect(matches(detection, { errorCode: 'AccessDenied' })).toBe(false);
    });
  });

  describe('Method: detectSubject, conditions', () => {
    const detections = `
sel_source:
  eventSource: s3.amazonaws.com
sel_name:
  eventName: PutBucketVersioning
filter_agent:
  userAgent|contains: terraform
_private:
  eventName: Nothing`;
    const withCondition = (condition: string) => `${detections}\ncondition: ${condition}`;
    const terraform = { ...versioning, userAgent: 'Terraform/1.5' };

    it.each([
      ['sel_source and sel_name', versioning, true],
      ['sel_source and filter_agent', versioning, false],
      ['sel_source or filter_agent', versioning, true],
      ['not filter_agent', versioning, true],
      ['not filter_agent', terraform, false],
      ['sel_source and not filter_agent', terraform, false],
      ['not sel_source and sel_name', versioning, false],
      ['not (sel_source and filter_agent)', versioning, true],
      ['filter_agent or sel_source and sel_name', versioning, true],
      ['(filter_agent or sel_source) and _private', versioning, false],
      ['1 of sel_*', { eventSource: 's3.amazonaws.com' }, true],
      ['all of sel_*', { eventSource: 's3.amazonaws.com' }, false],
      ['all of sel_*', versioning, true],
      ['1 of them', { userAgent: 'terraform' }, true],
      ['all of them', terraform, true],
      ['any of filter*', terraform, true],
      ['1 of _priv*', { eventName: 'Nothing' }, true],
    ])('"%s" on %j is %s', (condition, record, expected) => {
      // Act and Assess
      expect(matches(withCondition(condition), record)).toBe(expected);
    });

    it('leaves identifiers starting with "_" out of "them" and of patterns that do not start with "_"', () => {
      // Prepare: "all of them" would be false if _private (eventName: Nothing) were included.
      const record = terraform;

      // Act and Assess
      expect(matches(withCondition('all of them'), record)).toBe(true);
      expect(matches(withCondition('1 of *'), { eventName: 'Nothing' })).toBe(false);
    });

    it('ORs a list of conditions', () => {
      // Prepare
      const detection = `${detections}\ncondition:\n  - filter_agent\n  - sel_name`;

      // Act and Assess
      expect(matches(detection, { eventName: 'PutBucketVersioning' })).toBe(true);
      expect(matches(detection, { eventName: 'Other' })).toBe(false);
    });
  });

  describe('Property: not of a selection', () => {
    it('matches exactly the records the selection does not match', () => {
      // Prepare: small alphabets so that selections match often.
      const word = fc.stringMatching(/^[ab*?]{0,4}$/);
      const modifier = fc.constantFrom('', '|contains', '|startswith', '|endswith', '|cased', '|re');
      const field = fc.constantFrom('eventName', 'userAgent', 'requestParameters.key');
      const selection = fc.record({
        field,
        modifier,
        values: fc.array(word, { minLength: 1, maxLength: 3 }),
      });
      const value = fc.oneof(
        fc.stringMatching(/^[abAB]{0,5}$/),
        fc.constant(null),
        fc.integer({ min: 0, max: 3 }),
      );
      const record = fc.record(
        {
          eventName: value,
          userAgent: value,
          requestParameters: fc.record({ key: value }, { requiredKeys: [] }),
        },
        { requiredKeys: [] },
      );

      fc.assert(
        fc.property(selection, fc.array(record, { minLength: 1, maxLength: 20 }), (sel, records) => {
          const values = sel.values
            .map((v) => `    - '${sel.modifier === '|re' ? v.replace(/[*?]/g, '.') : v}'`)
            .join('\n');
          const block = `selection:\n  ${sel.field}${sel.modifier}:\n${values}`;
          const positive = rule(`${block}\ncondition: selection`, { id: 'positive' });
          const negative = rule(`${block}\ncondition: not selection`, { id: 'negative' });
          const detector = new Detector([positive, negative]);

          // Act
          for (const r of records) {
            const hits = detector.detectSubject({ source: CLOUDTRAIL_SOURCE, record: r }).map((m) => m.id);

            // Assess
            expect(hits).toHaveLength(1);
          }
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('when a rule uses a modifier auditseal does not implement', () => {
    it('is refused at load with a typed error naming the modifier', () => {
      // Act
      const error = refusal(ruleText("selection:\n  userAgent|windash: '-enc'\ncondition: selection"));

      // Assess
      expect(error).toBeInstanceOf(UnsupportedSigmaFeatureError);
      expect((error as UnsupportedSigmaFeatureError).feature).toBe('|windash');
      expect(error.path).toBe('detection.selection.userAgent|windash');
    });
  });
});
