import { describe, expect, it } from 'vitest';
import { Detector } from '../../../shared/detect/detector.ts';
import { cloudTrailRecordOf, subjectOf } from '../../../shared/detect/event-records.ts';
import { rule } from './rule-helpers.ts';

const appEvent = (tags?: Record<string, string>) => ({
  id: 'app-1',
  eventTime: '2026-11-22T21:00:00Z',
  actor: { id: 'alice', type: 'user', mfa: false },
  action: 'ssh.login',
  outcome: { result: 'success' },
  ...(tags ? { tags } : {}),
  v: 1,
  receivedAt: '2026-11-22T21:00:00.000Z',
  channel: 'api',
});

const sshWithoutMfa = rule('selection:\n  action: ssh.login\n  actor.mfa: false\ncondition: selection', {
  logsource: 'product: vault-proxy\n  service: audit',
  id: 'ssh-no-mfa',
});

describe('Function: subjectOf', () => {
  it('takes the verbatim CloudTrail record of a CloudTrail event', () => {
    // Prepare
    const record = { eventName: 'StopLogging' };
    const event = {
      ...appEvent(),
      cloudtrail: JSON.stringify(record),
      tags: { 'sigma.product': 'vault-proxy' },
    };

    // Act
    const subject = subjectOf(event);

    // Assess
    expect(subject.source.kind).toBe('cloudtrail');
    expect(subject.record).toEqual(record);
    expect(cloudTrailRecordOf(event)).toEqual(record);
  });

  it('takes the verbatim Event of a Kubernetes event', () => {
    // Act and Assess
    // Act
    const subject = subjectOf({ ...appEvent(), kubernetes: '{"verb":"get","n":12345678901234567890}' });

    // Assess
    expect(subject.source.kind).toBe('kubernetes');
    expect(subject.record['verb']).toBe('get');
    expect(String(subject.record['n'])).toBe('12345678901234567890');
  });

  it.each([
    [undefined, { product: 'auditseal', service: 'events' }],
    [
      { 'sigma.product': 'Vault-Proxy', 'sigma.service': 'audit' },
      { product: 'vault-proxy', service: 'audit' },
    ],
    [
      { 'sigma.product': 'aws', 'sigma.service': 'cloudtrail' },
      { product: 'auditseal', service: 'events' },
    ],
  ])('names the source of an app event with tags %j as %j', (tags, expected) => {
    // Act and Assess
    expect(subjectOf(appEvent(tags)).source).toEqual({ kind: 'app', ...expected });
  });
});

describe('Class: Detector (app sources)', () => {
  it("runs an app's rules on the events that name its product and service, against the stored event", () => {
    // Prepare
    const detector = new Detector([sshWithoutMfa]);

    // Act and Assess
    expect(
      detector
        .detect(appEvent({ 'sigma.product': 'vault-proxy', 'sigma.service': 'audit' }))
        .map((r) => r.id),
    ).toEqual(['ssh-no-mfa']);
    expect(detector.detect(appEvent({ 'sigma.product': 'vault-proxy', 'sigma.service': 'other' }))).toEqual(
      [],
    );
    expect(detector.detect(appEvent())).toEqual([]);
  });
});

describe('Class: Detector', () => {
  describe('when a CloudTrail record holds numbers no double can hold', () => {
    it('matches them by the text the record wrote, never as the object that carries them', () => {
      // Prepare
      const record =
        '{"eventSource":"s3.amazonaws.com","eventName":"PutObject","requestParameters":{"size":12345678901234567890,"zero":-0}}';
      const event = { ...appEvent(), cloudtrail: record };
      const exact = rule(
        "selection:\n  requestParameters.size: '12345678901234567890'\n  requestParameters.zero: '-0'\ncondition: selection",
        { id: 'exact' },
      );
      const rounded = rule(
        "selection:\n  requestParameters.size: '12345678901234567000'\ncondition: selection",
        { id: 'rounded' },
      );
      const inner = rule(
        "selection:\n  requestParameters.size.value: '12345678901234567890'\ncondition: selection",
        { id: 'inner' },
      );

      // Act
      const fired = new Detector([exact, rounded, inner]).detect(event).map((r) => r.id);

      // Assess
      expect(fired).toEqual(['exact']);
    });
  });
});
