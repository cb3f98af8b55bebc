import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  type DataMessage,
  decodeSubscriptionData,
  decodeSubscriptionEvent,
  kubernetesEventsOf,
  MAX_DECODED_BYTES,
  MAX_ENCODED_LENGTH,
  MAX_LOG_EVENTS,
  SubscriptionPayloadError,
  type SubscriptionPayloadErrorCode,
} from '../../../shared/ingest/cloudwatch-logs.ts';
import { readSharedText, sharedDataPath } from '../../support/shared-data.ts';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const FALCO_DIR = sharedDataPath('kubernetes', 'falco-trace-files');
const falcoFiles = readdirSync(FALCO_DIR).filter((f) => f.endsWith('.json'));
const falcoText = (f: string) => readFileSync(`${FALCO_DIR}/${f}`, 'utf8');

/**
 * No real subscription payload carrying kube-apiserver audit events exists in the shared data, so these
 * tests wrap Falco's real audit Events in the DATA_MESSAGE envelope CloudWatch Logs uses (the shape of
 * the aws-lambda-go sample), as an EKS audit log stream would deliver them.
 */
function payload(messages: readonly string[], over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    messageType: 'DATA_MESSAGE',
    owner: ACCOUNT,
    logGroup: '/aws/eks/prod/cluster',
    logStream: 'kube-apiserver-audit-0123456789abcdef',
    subscriptionFilters: ['auditseal'],
    logEvents: messages.map((message, i) => ({
      id: String(36_000_000 + i),
      timestamp: 1_540_561_114_000 + i,
      message,
    })),
    ...over,
  };
}

function encode(value: unknown): string {
  return gzipSync(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value))).toString('base64');
}

function failure(act: () => unknown): SubscriptionPayloadError {
  try {
    act();
  } catch (error) {
    if (error instanceof SubscriptionPayloadError) return error;
    throw error;
  }
  throw new Error('the payload was not refused');
}

function data(value: unknown): DataMessage {
  const message = decodeSubscriptionData(encode(value));
  if (message.type !== 'data') throw new Error('expected a data message');
  return message;
}

describe('Function: decodeSubscriptionEvent', () => {
  it('decodes the real Lambda event of aws-lambda-go to the bytes its decoded copy holds', () => {
    // Prepare
    const event = JSON.parse(
      readSharedText('kubernetes/cwl-subscription/aws-lambda-go.cloudwatch-logs-event.json'),
    );
    const expected = JSON.parse(
      readSharedText('kubernetes/cwl-subscription/aws-lambda-go.cloudwatch-logs-event.decoded.json'),
    );

    // Act
    const message = decodeSubscriptionEvent(event);

    // Assess
    expect(message).toEqual({ type: 'data', ...expected, messageType: undefined });
  });

  it('decodes a CONTROL_MESSAGE to a message without events', () => {
    // Prepare
    const control = {
      messageType: 'CONTROL_MESSAGE',
      owner: 'CloudwatchLogs',
      logGroup: '',
      logStream: '',
      subscriptionFilters: [],
      logEvents: [
        {
          id: '',
          timestamp: 1_432_826_855_000,
          message: 'CWL CONTROL MESSAGE: Checking health of destination',
        },
      ],
    };

    // Act and Assess
    expect(decodeSubscriptionData(encode(control))).toEqual({ type: 'control' });
  });

  describe('when the payload is bad', () => {
    const zeros = gzipSync(Buffer.alloc(MAX_DECODED_BYTES + 1, 0x20)).toString('base64');
    const gzipped = gzipSync(Buffer.from(JSON.stringify(payload([])))).toString('base64');
    it.each<[string, () => unknown, SubscriptionPayloadErrorCode]>([
      [
        'not a subscription event',
        () => decodeSubscriptionEvent({ awslogs: { data: 1 } }),
        'NOT_A_SUBSCRIPTION_EVENT',
      ],
      [
        'an extra member',
        () => decodeSubscriptionEvent({ awslogs: { data: 'x' }, more: 1 }),
        'NOT_A_SUBSCRIPTION_EVENT',
      ],
      ['empty data', () => decodeSubscriptionData(''), 'BAD_BASE64'],
      ['not base64', () => decodeSubscriptionData('not base64!'), 'BAD_BASE64'],
      ['oversized data', () => decodeSubscriptionData('A'.repeat(MAX_ENCODED_LENGTH + 4)), 'TOO_LARGE'],
      [
        'not gzip',
        () => decodeSubscriptionData(Buffer.from('{"messageType":"DATA_MESSAGE"}').toString('base64')),
        'NOT_GZIP',
      ],
      ['truncated gzip', () => decodeSubscriptionData(gzipped.slice(0, 40)), 'BAD_GZIP'],
      ['a gzip bomb', () => decodeSubscriptionData(zeros), 'DECODED_TOO_LARGE'],
      [
        'bad UTF-8',
        () => decodeSubscriptionData(gzipSync(Buffer.from([0x7b, 0xff, 0x7d])).toString('base64')),
        'BAD_UTF8',
      ],
      ['not JSON', () => decodeSubscriptionData(encode('{"messageType":')), 'NOT_JSON'],
      [
        'no logEvents',
        () => decodeSubscriptionData(encode({ ...payload([]), logEvents: undefined })),
        'BAD_PAYLOAD',
      ],
      ['a bad owner', () => decodeSubscriptionData(encode(payload([], { owner: 'me' }))), 'BAD_PAYLOAD'],
      [
        'too many log events',
        () => decodeSubscriptionData(encode(payload(Array.from({ length: MAX_LOG_EVENTS + 1 }, () => 'x')))),
        'BAD_PAYLOAD',
      ],
      [
        'a forbidden member',
        () => decodeSubscriptionData(encode(`{"__proto__":{},${JSON.stringify(payload([])).slice(1)}`)),
        'BAD_PAYLOAD',
      ],
    ])('refuses %s', (_what, act, code) => {
      // Act and Assess
      expect(failure(act).code).toBe(code);
    });
  });
});

describe('Function: kubernetesEventsOf', () => {
  const auditFiles = falcoFiles.filter((f) => f !== 'fal_01_003.json');

  it('maps every Falco Event wrapped in one EKS audit-stream payload', () => {
    // Prepare
    const message = data(payload(auditFiles.map(falcoText)));

    // Act
    const delivery = kubernetesEventsOf(message, { region: REGION });

    // Assess
    expect(delivery.clusterArn).toBe('arn:aws:eks:eu-west-1:123456789012:cluster/prod');
    expect(delivery.events).toHaveLength(auditFiles.length);
    // Each Event's own text, without the file's final newline.
    expect(delivery.events.map((e) => e.kubernetes)).toEqual(auditFiles.map((f) => falcoText(f).trim()));
  });

  describe('when one log event is fal_01_003.json ("kind": 0)', () => {
    it('refuses the whole payload, naming the log event', () => {
      // Prepare
      const message = data(payload([falcoText('create_secret.json'), falcoText('fal_01_003.json')]));

      // Act
      const error = failure(() => kubernetesEventsOf(message, { region: REGION }));

      // Assess
      expect(error.code).toBe('BAD_LOG_EVENT');
      expect(error.reason).toBe('NOT_AN_EVENT');
      expect(error.path).toBe('$.logEvents[1].message.kind');
    });
  });

  describe('when log events are not JSON (the AWS docs examples, cut short)', () => {
    it.each([
      'awsdocs-cwl-SubscriptionFilters.example1.decoded.json',
      'awsdocs-cwl-SubscriptionFilters.example2.decoded.json',
    ])('refuses %s put on an audit stream', (file) => {
      // Prepare
      const doc = JSON.parse(readSharedText(`kubernetes/cwl-subscription/${file}`));
      const message = data({
        ...doc,
        logGroup: '/aws/eks/prod/cluster',
        logStream: 'kube-apiserver-audit-1',
      });

      // Act
      const error = failure(() => kubernetesEventsOf(message, { region: REGION }));

      // Assess
      expect(error.code).toBe('BAD_LOG_EVENT');
      expect(error.reason).toBe('NOT_JSON');
      expect(error.path).toBe('$.logEvents[0].message');
    });
  });

  it('skips the other streams of an EKS log group (authenticator, scheduler, …)', () => {
    // Prepare
    const message = data(
      payload(['time="2024" level=info msg="access granted"'], { logStream: 'authenticator-abc' }),
    );

    // Act and Assess
    expect(kubernetesEventsOf(message, { region: REGION })).toMatchObject({ events: [], skipped: 1 });
  });

  it('takes every stream of a log group configured for a cluster', () => {
    // Prepare
    const arn = 'arn:aws:eks:eu-west-1:123456789012:cluster/self-managed';
    const message = data(
      payload([falcoText('create_secret.json')], { logGroup: 'k8s-audit', logStream: 'any' }),
    );

    // Act
    const delivery = kubernetesEventsOf(message, { region: REGION, clusters: new Map([['k8s-audit', arn]]) });

    // Assess
    expect(delivery.clusterArn).toBe(arn);
    expect(delivery.events).toHaveLength(1);
  });

  describe('when the log group names no cluster', () => {
    it('refuses the payload', () => {
      // Prepare
      const message = data(payload([falcoText('create_secret.json')], { logGroup: '/aws/lambda/other' }));

      // Act and Assess
      expect(failure(() => kubernetesEventsOf(message, { region: REGION })).code).toBe('UNKNOWN_CLUSTER');
    });
  });
});
