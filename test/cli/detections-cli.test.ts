/**
 * `auditseal alerts` and `auditseal local replay-cloudwatch-logs` without a stack: usage errors (exit 2,
 * a clear message, nothing sent), the table, and how a file becomes subscription payloads. The commands
 * against a running stack are tested in test/integration/detections-end-to-end.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { renderAlerts } from '../../cli/commands/alerts.ts';
import { subscriptionEventsOf } from '../../cli/commands/replay-cloudwatch-logs.ts';
import { main } from '../../cli/main.ts';
import { freePort } from '../../local/process-group.ts';
import type { AlertView } from '../../shared/detect/alert-query.ts';
import { type DataMessage, decodeSubscriptionEvent } from '../../shared/ingest/cloudwatch-logs.ts';
import { sharedDataPath } from '../support/shared-data.ts';

const work = mkdtempSync(join(tmpdir(), 'auditseal-detections-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const NO_STACK = join(work, 'no-such-local.json');
const falco = (name: string) =>
  JSON.parse(readFileSync(sharedDataPath('kubernetes', 'falco-trace-files', name), 'utf8')) as Record<
    string,
    unknown
  >;

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const env = { ...process.env };
  delete process.env['AUDITSEAL_ENDPOINT'];
  delete process.env['AWS_ACCESS_KEY_ID'];
  try {
    return { code: await main(['node', 'auditseal', ...args]), stdout, stderr };
  } finally {
    process.env = env;
    out.mockRestore();
    err.mockRestore();
  }
}

describe('Command: auditseal alerts', () => {
  describe('when an option is bad', () => {
    it.each([
      [['--limit', 'ten'], '--limit'],
      [['--level', 'urgent'], 'urgent'],
      [['--from', 'yesterday'], '--from'],
      [['--max', '-1'], '--max'],
    ])('exits 2 for %j, naming it', async (args, named) => {
      // Act
      const result = await run('alerts', '--local-file', NO_STACK, ...args);

      // Assess
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(named);
    });
  });

  describe('when there is no stack and no endpoint', () => {
    it('exits 2 and says how to get one', async () => {
      // Act
      const result = await run('alerts', '--local-file', NO_STACK);

      // Assess
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('no API endpoint');
    });
  });

  it('renders alerts as a table with the rules’ authors (Detection Rule License)', () => {
    // Prepare
    const alert = (kind: 'alert' | 'summary', count: number): AlertView =>
      ({
        alertId: `det:r:${kind}`,
        kind,
        receivedAt: '2026-11-22T21:00:00.000Z',
        level: 'high',
        rule: { id: 'r', title: 'AWS CloudTrail Important Change', author: 'vitaliy0x1' },
        count,
        eventIds: Array.from({ length: count }, (_, i) => `ct:${i}`),
        event: {},
        receipt: {} as AlertView['receipt'],
      }) as AlertView;

    // Act
    const text = renderAlerts({ alerts: [alert('alert', 1), alert('summary', 1), alert('summary', 3)] });

    // Assess
    expect(text).toContain('HIGH');
    expect(text).toContain('ct:0');
    expect(text).toContain('1 event (summary over the rate limit)');
    expect(text).toContain('3 events (summary over the rate limit)');
    expect(text).toContain('Sigma rules by vitaliy0x1 (Detection Rule License 1.1).');
  });

  describe('when no alert matches', () => {
    it('says why and what to try, with and without filters', () => {
      // Act
      const none = renderAlerts({ alerts: [] });
      const filtered = renderAlerts({ alerts: [] }, { level: 'critical', rule: undefined });

      // Assess
      expect(none).toMatch(/^No alerts: no detection rule has matched an event on this ledger yet\./);
      expect(none).toContain('npx auditseal local replay-cloudtrail examples/cloudtrail-sample.jsonl');
      expect(filtered).toMatch(/^No alerts match --level "critical"\./);
    });
  });
});

describe('Command: auditseal local replay-cloudwatch-logs', () => {
  describe('when the local stack is not running', () => {
    it('exits 2 and says so', async () => {
      // Prepare
      const file = join(work, 'events.jsonl');
      writeFileSync(file, `${JSON.stringify(falco('create_secret.json'))}\n`);

      // Act
      const result = await run('local', 'replay-cloudwatch-logs', file, '--local-file', NO_STACK);

      // Assess
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('no running local stack');
    });
  });

  describe('when the local stack file is there but the stack is stopped', () => {
    // Each command gets a line it accepts, so that only the stopped stack can stop it.
    const eventBridge = () =>
      JSON.stringify(
        JSON.parse(
          readFileSync(
            sharedDataPath('cloudtrail', 'eventbridge', 'awsdocs-cwe_EventTypes_s3-CreateBucket.json'),
            'utf8',
          ),
        ),
      );
    it.each([
      ['replay-cloudwatch-logs', () => JSON.stringify(falco('create_secret.json'))],
      ['replay-cloudtrail', () => JSON.stringify(JSON.parse(eventBridge()).detail)],
      ['replay-eventbridge', eventBridge],
    ])(
      '%s exits 2 with one line naming the endpoint and npm start, delivering nothing',
      async (command, line) => {
        // Prepare: a local.json of a stack that has stopped (nothing listens on its ports)
        const closed = await freePort();
        const stopped = join(work, `stopped-${command}.json`);
        writeFileSync(
          stopped,
          JSON.stringify({
            region: 'us-east-1',
            accountId: '000000000000',
            ledger: 'local-stopped',
            tableName: 'auditseal-ledger',
            kmsKeyId: 'k',
            periodSeconds: 60,
            dynamodbEndpoint: `http://127.0.0.1:${closed}`,
            kmsEndpoint: `http://127.0.0.1:${closed}`,
          }),
        );
        const file = join(work, `events-${command}.jsonl`);
        writeFileSync(file, `${line()}\n`);

        // Act
        const result = await run('local', command, file, '--local-file', stopped);

        // Assess
        expect(result.code).toBe(2);
        expect(result.stderr).toContain(
          `cannot reach the local stack's DynamoDB Local at http://127.0.0.1:${closed}`,
        );
        expect(result.stderr).toContain('npm start');
        expect(result.stderr).not.toMatch(/\n\s+at /);
        expect(result.stderr.trim().split('\n')).toHaveLength(1);
        expect(result.stdout).toBe('');
      },
    );
  });

  describe('when --batch is not a number', () => {
    it('exits 2', async () => {
      // Act and Assess
      expect((await run('local', 'replay-cloudwatch-logs', 'x.json', '--batch', 'many')).code).toBe(2);
    });
  });
});

describe('Function: subscriptionEventsOf', () => {
  const options = { cluster: 'prod', owner: '123456789012', batch: 2, nowMs: 1_700_000_000_000 };

  it('puts Events, and EventLists’ items, in order into EKS audit payloads of at most --batch', () => {
    // Prepare
    const [a, b, c] = [falco('create_secret.json'), falco('delete_secret.json'), falco('exec_pod.json')];

    // Act
    const payloads = subscriptionEventsOf(
      [JSON.stringify(a), JSON.stringify({ kind: 'EventList', items: [b, c] })],
      options,
    );

    // Assess
    const messages = payloads.map((p) => decodeSubscriptionEvent(p) as DataMessage);
    expect(messages.map((m) => m.logEvents.map((e) => JSON.parse(e.message)))).toEqual([[a, b], [c]]);
    expect(messages[0]).toMatchObject({
      owner: '123456789012',
      logGroup: '/aws/eks/prod/cluster',
      logStream: expect.stringMatching(/^kube-apiserver-audit-/),
    });
    expect(messages[0]!.logEvents[0]!.id).toMatch(/^\d{56}$/);
  });

  it('delivers each Event text exactly as FILE holds it, alone or in an EventList (numbers no double holds)', () => {
    // Prepare
    const event = JSON.stringify(falco('create_secret.json')).replace(
      '"verb":"create"',
      '"verb":"create","n":12345678901234567890,"e":1e400',
    );
    const list = `{"kind":"EventList","items":[ ${event} ,\n${event}]}`;

    // Act
    const payloads = subscriptionEventsOf([`  ${event}`, list], { ...options, batch: 10 });

    // Assess
    const messages = payloads.map((p) => decodeSubscriptionEvent(p) as DataMessage);
    expect(messages.flatMap((m) => m.logEvents.map((e) => e.message))).toEqual([event, event, event]);
  });

  it('delivers subscription events as they are, and encodes decoded messages', () => {
    // Prepare
    const lambdaEvent = JSON.parse(
      readFileSync(
        sharedDataPath('kubernetes', 'cwl-subscription', 'aws-lambda-go.cloudwatch-logs-event.json'),
        'utf8',
      ),
    );
    const decoded = JSON.parse(
      readFileSync(
        sharedDataPath('kubernetes', 'cwl-subscription', 'aws-lambda-go.cloudwatch-logs-event.decoded.json'),
        'utf8',
      ),
    );

    // Act
    const payloads = subscriptionEventsOf([JSON.stringify(lambdaEvent), JSON.stringify(decoded)], options);

    // Assess
    expect(payloads[0]).toEqual(lambdaEvent);
    expect(decodeSubscriptionEvent(payloads[1])).toEqual(decodeSubscriptionEvent(lambdaEvent));
  });
});
