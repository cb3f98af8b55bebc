import { describe, expect, it } from 'vitest';
import { UnsupportedSigmaFeatureError } from '../../../shared/detect/errors.ts';
import { loadRuleFiles } from '../../../shared/detect/load-rules.ts';
import { MAX_RULE_FILE_BYTES, parseSigmaRule } from '../../../shared/detect/sigma-rule.ts';
import { KUBERNETES_LOGSOURCE, refusal, ruleText } from './rule-helpers.ts';

describe('Function: parseSigmaRule', () => {
  it('keeps the metadata alerts need, the authors included (DRL 1.1)', () => {
    // Prepare
    const text = `${ruleText('selection:\n  eventName: StopLogging\ncondition: selection')}\nauthor: vitaliy0x1\ntags:\n  - attack.t1685.002`;

    // Act
    const rule = parseSigmaRule({ name: 'x.yml', text });

    // Assess
    expect(rule).toMatchObject({
      id: 'test-rule',
      title: 'Test rule',
      level: 'medium',
      status: 'test',
      author: 'vitaliy0x1',
      tags: ['attack.t1685.002'],
      source: 'x.yml',
      scope: { kind: 'cloudtrail' },
    });
  });

  it('takes a Kubernetes rule with category application, and an app rule by product and service', () => {
    // Act
    const k8s = parseSigmaRule({
      name: 'k.yml',
      text: ruleText('selection:\n  verb: create\ncondition: selection', {
        logsource: `category: application\n  ${KUBERNETES_LOGSOURCE}`,
      }),
    });
    const app = parseSigmaRule({
      name: 'a.yml',
      text: ruleText('selection:\n  action: ssh.login\ncondition: selection', {
        logsource: 'product: Vault-Proxy\n  service: audit',
      }),
    });

    // Assess
    expect(k8s.scope).toEqual({ kind: 'kubernetes' });
    expect(app.scope).toEqual({ kind: 'app', product: 'vault-proxy', service: 'audit' });
  });

  describe('when the file is not a single well-formed YAML rule', () => {
    it.each([
      ['title: [unclosed', 'YAML_SYNTAX'],
      ['a: 1\na: 2', 'YAML_SYNTAX'],
      ['a: &x 1\nb: *x', 'YAML_SYNTAX'],
      ['a: !custom 1', 'YAML_SYNTAX'],
      ['- 1\n- 2', 'NOT_A_RULE'],
      ['', 'NOT_A_RULE'],
    ])('%j is refused with %s', (text, code) => {
      // Act and Assess
      expect(refusal(text).code).toBe(code);
    });

    it('refuses several documents as a rule collection', () => {
      // Act
      const error = refusal(`${ruleText('s:\n  eventName: x\ncondition: s')}\n---\ntitle: other`);

      // Assess
      expect(error).toBeInstanceOf(UnsupportedSigmaFeatureError);
      expect((error as UnsupportedSigmaFeatureError).feature).toBe('rule collection');
    });

    it('refuses a file larger than the limit before parsing it', () => {
      // Act and Assess
      expect(refusal(`# ${'x'.repeat(MAX_RULE_FILE_BYTES)}`).code).toBe('RULE_TOO_LARGE');
    });

    it('refuses forbidden member names anywhere', () => {
      // Act and Assess
      expect(refusal(ruleText('s:\n  __proto__: x\ncondition: s')).code).toBe('NOT_A_RULE');
    });
  });

  describe('when a required member is missing or wrong', () => {
    const base = ruleText('s:\n  eventName: x\ncondition: s');
    it.each([
      ['title', base.replace('title: Test rule\n', ''), 'title'],
      ['id', base.replace('id: test-rule\n', ''), 'id'],
      ['id format', base.replace('id: test-rule', 'id: "bad id"'), 'id'],
      ['level', base.replace('level: medium', 'level: severe'), 'level'],
      ['logsource', base.replace(/logsource:\n.*\n.*\n/, ''), 'logsource'],
      ['condition', base.replace('\n  condition: s', ''), 'detection.condition'],
    ])('refuses a rule without a valid %s', (_what, text, path) => {
      // Act
      const error = refusal(text);

      // Assess
      expect(error.code).toBe('NOT_A_RULE');
      expect(error.path).toBe(path);
    });
  });

  describe('when the rule uses Sigma auditseal does not implement', () => {
    it.each([
      ['keyword search', 'keywords:\n  - mimikatz\ncondition: keywords', 'keyword search'],
      ['keyword with modifier', "s:\n  '|contains': x\ncondition: s", 'keyword search'],
      ['aggregation', 's:\n  eventName: x\ncondition: s | count() > 5', 'aggregation'],
      ['timeframe', 's:\n  eventName: x\ntimeframe: 5m\ncondition: s', 'timeframe'],
      ['base64', 's:\n  userAgent|base64: x\ncondition: s', '|base64'],
      ['numeric comparison', 's:\n  readOnly|gt: 1\ncondition: s', '|gt'],
      ['re then contains', "s:\n  userAgent|re|contains: 'a+'\ncondition: s", '|re|contains'],
      ['regex lookbehind', "s:\n  userAgent|re: '(?<=a)b'\ncondition: s", 'regex lookbehind'],
      [
        'regex inline flags',
        "s:\n  userAgent|re: '(?i)ab'\ncondition: s",
        'regex inline flags or other "(?" groups',
      ],
      ['regex back-reference', "s:\n  userAgent|re: '(a)\\1'\ncondition: s", 'regex back-references'],
    ])('refuses %s, naming the feature', (_what, detection, feature) => {
      // Act
      const error = refusal(ruleText(detection));

      // Assess
      expect(error).toBeInstanceOf(UnsupportedSigmaFeatureError);
      expect((error as UnsupportedSigmaFeatureError).feature).toBe(feature);
    });

    it('refuses a deprecated rule', () => {
      // Act
      const error = refusal(
        ruleText('s:\n  eventName: x\ncondition: s').replace('status: test', 'status: deprecated'),
      );

      // Assess
      expect((error as UnsupportedSigmaFeatureError).feature).toBe('status: deprecated');
    });

    it('refuses correlation rules', () => {
      // Act
      const error = refusal('title: c\nid: c1\nlevel: low\ncorrelation:\n  type: event_count');

      // Assess
      expect((error as UnsupportedSigmaFeatureError).feature).toBe('correlation rule');
    });
  });

  describe('when the rule is invalid Sigma', () => {
    it.each([
      ['an unknown identifier', 's:\n  eventName: x\ncondition: s and t'],
      ['a selector matching nothing', 's:\n  eventName: x\ncondition: 1 of filter_*'],
      ['unbalanced parentheses', 's:\n  eventName: x\ncondition: (s'],
      ['an unknown modifier', 's:\n  eventName|frobnicate: x\ncondition: s'],
      ['re after another modifier', 's:\n  eventName|all|re:\n    - a\n    - b\ncondition: s'],
      ['a bad regular expression', "s:\n  eventName|re: 'a('\ncondition: s"],
      ['a bad CIDR', "s:\n  sourceIPAddress|cidr: '10.0.0.300/8'\ncondition: s"],
      ['a CIDR with host bits', "s:\n  sourceIPAddress|cidr: '10.0.0.1/8'\ncondition: s"],
      ['a fieldref with wildcards', "s:\n  userAgent|fieldref: 'eventName*'\ncondition: s"],
      ['null in a list', 's:\n  errorCode:\n    - x\n    - null\ncondition: s'],
      ['all with one value', 's:\n  eventName|all: x\ncondition: s'],
      ['contains on a number', 's:\n  eventName|contains: 4\ncondition: s'],
      ['an empty value list', 's:\n  eventName: []\ncondition: s'],
      ['a nested value', 's:\n  eventName:\n    a: b\ncondition: s'],
      ['a field through __proto__', "s:\n  userIdentity.__proto__.x: 'y'\ncondition: s"],
    ])('refuses %s', (_what, detection) => {
      // Act and Assess
      expect(refusal(ruleText(detection)).code).toBe('INVALID_RULE');
    });
  });

  describe('when the rule could never match a record of its source', () => {
    it.each([
      ['product: aws\n  service: guardduty', 'an AWS service other than cloudtrail'],
      ['product: windows\n  category: process_creation', 'a category other than "application"'],
      ['service: cloudtrail', 'no product'],
      ['product: kubernetes\n  service: kubelet', 'a Kubernetes service other than audit'],
    ])('refuses the logsource %j (%s)', (logsource) => {
      // Act and Assess
      expect(refusal(ruleText('s:\n  eventName: x\ncondition: s', { logsource })).code).toBe(
        'UNKNOWN_LOGSOURCE',
      );
    });

    it('refuses a field CloudTrail records never have', () => {
      // Act
      const error = refusal(ruleText("s:\n  status: 'success'\ncondition: s"));

      // Assess
      expect(error.code).toBe('UNKNOWN_FIELD');
      expect(error.path).toBe('detection.s.status');
    });

    it('refuses a Kubernetes field at the wrong level, with a hint', () => {
      // Act
      const error = refusal(
        ruleText("s:\n  apiGroup: 'apps'\ncondition: s", { logsource: KUBERNETES_LOGSOURCE }),
      );

      // Assess
      expect(error.code).toBe('UNKNOWN_FIELD');
      expect(error.message).toContain('did you mean "objectRef.apiGroup"?');
    });

    it('refuses a value that can never match an integer field, even inside a filter', () => {
      // Act
      const error = refusal(
        ruleText("s:\n  verb: get\nf:\n  responseStatus.code: 'ALLOW'\ncondition: s and not f", {
          logsource: KUBERNETES_LOGSOURCE,
        }),
      );

      // Assess
      expect(error.code).toBe('NEVER_MATCHES');
      expect(error.path).toBe('detection.f.responseStatus.code');
    });

    it('accepts integer text and wildcards against an integer field', () => {
      // Act
      const rule = parseSigmaRule({
        name: 'k.yml',
        text: ruleText("s:\n  responseStatus.code:\n    - '403'\n    - '5*'\ncondition: s", {
          logsource: KUBERNETES_LOGSOURCE,
        }),
      });

      // Assess
      expect(rule.id).toBe('test-rule');
    });
  });
});

describe('Function: loadRuleFiles', () => {
  describe('when two files share a rule id', () => {
    it('keeps the first and refuses the second', () => {
      // Prepare
      const text = ruleText('s:\n  eventName: x\ncondition: s');

      // Act
      const set = loadRuleFiles([
        { name: 'a.yml', text },
        { name: 'b.yml', text },
      ]);

      // Assess
      expect(set.rules.map((r) => r.source)).toEqual(['a.yml']);
      expect(set.refused.map((r) => [r.file, r.error.code])).toEqual([['b.yml', 'DUPLICATE_RULE_ID']]);
    });
  });
});
