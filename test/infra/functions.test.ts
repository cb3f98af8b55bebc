/**
 * The functions and their triggers: runtime and placement, the grace/timeout invariant of sealing, the
 * stream, CloudTrail and heartbeat triggers, and that every function's environment parses with the
 * configuration schema its handler reads at cold start.
 */
import { readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIngestConfig } from '../../functions/config.ts';
import { sealingConfigFromEnv } from '../../functions/sealing-runtime.ts';
import { SEALING_LAG_LOG_PHRASE, TAMPER_ALARM_LOG_PHRASE } from '../../infra/constructs/alarm-topic.ts';
import {
  CLOUDTRAIL_DETAIL_TYPES,
  CONFIG_EVENT_PATTERN,
  WRITER_TIMEOUT,
} from '../../infra/constructs/functions.ts';
import { lambdaHeapFlags, WRITER_MEMORY_MIB } from '../../infra/constructs/lambda-heap.ts';
import { resourceDefinitions } from '../../infra/resources/definitions.ts';
import {
  type CfnResource,
  logicalIdOf,
  resourcesOfType,
  type Synthesized,
  synthesize,
} from './synthesize.ts';

let synthesized: Synthesized;
beforeAll(() => {
  synthesized = synthesize();
});
afterAll(() => synthesized.dispose());

/** The functions built from `functions/*.ts` (CDK's own custom-resource function left out). */
function ownFunctions(): [string, CfnResource][] {
  return resourcesOfType(synthesized.json, 'AWS::Lambda::Function').filter(
    ([, fn]) => fn.Properties['Handler'] === 'index.handler',
  );
}

function resourceOf(construct: Parameters<typeof logicalIdOf>[0]): CfnResource {
  return synthesized.json.Resources[logicalIdOf(construct)]!;
}

function environmentOf(fn: CfnResource): Record<string, unknown> {
  return (fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
}

describe('Construct: Functions', () => {
  describe('Property: the V8 heap stated for the memory size', () => {
    it("gives every function the heap flags of Lambda's Node.js runtime for its memory, in NODE_OPTIONS", () => {
      // Prepare
      const streaming = new Set(
        [synthesized.stack.functions.sealer, synthesized.stack.functions.heartbeat].map(logicalIdOf),
      );

      // Assess
      expect(streaming.size).toBe(2);
      for (const [id, fn] of ownFunctions()) {
        const memory = fn.Properties['MemorySize'] as number;
        const options = String(environmentOf(fn)['NODE_OPTIONS']).split(' ');
        const profile = streaming.has(id) ? 'streaming' : 'throughput';
        expect(options, id).toEqual(['--enable-source-maps', ...lambdaHeapFlags(memory, profile)]);
      }
    });

    it("keeps Node's 16 MiB semi-spaces for the sealer and the heartbeat, whose memory must stay flat", () => {
      for (const fn of [synthesized.stack.functions.sealer, synthesized.stack.functions.heartbeat]) {
        // Assess
        expect(String(environmentOf(resourceOf(fn))['NODE_OPTIONS'])).toContain('--max-semi-space-size=16');
      }
    });

    it('runs the ingest routes with the memory the ingest benchmark runs its handler for', () => {
      // Prepare
      const ingest = synthesized.stack.functions.routeHandlers.get('ingest-events');

      // Assess
      expect(ingest).toBeDefined();
      expect(resourceOf(ingest!).Properties['MemorySize']).toBe(WRITER_MEMORY_MIB);
    });
  });

  describe('Property: Node.js 22 on ARM64, traced, inside the isolated VPC', () => {
    it('builds one function per handler: the deployed routes, the forwarder, the sealer, the heartbeat, the read recorder and the detection function', () => {
      // Assess
      expect(ownFunctions()).toHaveLength(synthesized.stack.functions.routeHandlers.size + 5);
    });

    it('runs every function on nodejs22.x, arm64, with active tracing, in the VPC', () => {
      // Assess
      for (const [id, fn] of ownFunctions()) {
        expect(fn.Properties, id).toMatchObject({
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          TracingConfig: { Mode: 'Active' },
          VpcConfig: { SecurityGroupIds: expect.any(Array), SubnetIds: expect.any(Array) },
          LoggingConfig: { LogGroup: expect.anything() },
        });
      }
    });
  });

  describe('Property: the sealing grace exceeds every writer’s timeout', () => {
    it('times the ingest function out after 10 s', () => {
      // Assess
      const ingest = resourceOf(synthesized.stack.functions.routeHandlers.get('ingest-events')!);
      expect(ingest.Properties['Timeout']).toBe(10);
      expect(WRITER_TIMEOUT.toSeconds()).toBe(10);
    });

    it('gives every function the same AUDITSEAL_GRACE_SECONDS, longer than any writer’s timeout', () => {
      // Prepare
      const graces = new Set(ownFunctions().map(([, fn]) => environmentOf(fn)['AUDITSEAL_GRACE_SECONDS']));
      const grace = Number([...graces][0]);
      const writers = synthesized.stack.functions.writers.map(resourceOf);

      // Assess
      expect(graces.size).toBe(1);
      expect(writers.length).toBeGreaterThanOrEqual(2);
      for (const writer of writers) {
        expect(grace).toBeGreaterThan(writer.Properties['Timeout'] as number);
      }
    });

    it('refuses to synthesize a grace that is not longer than the writers’ timeout', () => {
      // Act / Assess
      expect(() => synthesize({ context: { 'auditseal:graceSeconds': 10 } })).toThrow(/graceSeconds \(10\)/);
    });
  });

  describe('Property: every environment parses with its handler’s schema', () => {
    it('gives the writers a configuration parseIngestConfig accepts', () => {
      // Prepare
      const { functions } = synthesized.stack;
      const writers = [functions.routeHandlers.get('ingest-events')!, functions.forwarder];

      // Assess
      for (const writer of writers) {
        const config = parseIngestConfig(deployedEnvironment(resourceOf(writer)));
        expect(config).toMatchObject({
          ledger: 'main',
          periodSeconds: 3600,
          graceSeconds: 60,
          shardCount: 32,
        });
      }
    });

    it('gives the sealing and auditor functions a configuration sealingConfigFromEnv accepts', () => {
      // Prepare
      const { functions } = synthesized.stack;
      const readers = ['list-digests', 'get-digest', 'get-head', 'get-keys', 'list-alarms'].map(
        (h) => functions.routeHandlers.get(h)!,
      );

      // Assess
      for (const fn of [functions.sealer, functions.heartbeat, ...readers]) {
        const config = sealingConfigFromEnv(deployedEnvironment(resourceOf(fn)));
        expect(config).toMatchObject({ AUDITSEAL_PERIOD_SECONDS: 3600, AUDITSEAL_GRACE_SECONDS: 60 });
      }
    });
  });

  describe('Property: the ledger stream triggers tamper alarms and sealing, one run at a time', () => {
    it('maps the stream with partial batch failures, bisection, bounded retries and an on-failure queue', () => {
      // Prepare
      const stream = resourceDefinitions('aws').streamEventSource;
      const failures = logicalIdOf(synthesized.stack.functions.streamFailures);

      // Assess
      synthesized.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(synthesized.stack.ledger.table), 'StreamArn'] },
        FunctionName: { Ref: logicalIdOf(synthesized.stack.functions.sealer) },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: stream.maximumRetryAttempts,
        StartingPosition: 'TRIM_HORIZON',
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [failures, 'Arn'] } } },
      });
      expect(stream.maximumRetryAttempts).toBeGreaterThan(0);
    });

    it('reserves a concurrency of 1 for the sealer and the heartbeat', () => {
      // Assess
      const { sealer, heartbeat } = synthesized.stack.functions;
      for (const fn of [sealer, heartbeat]) {
        expect(resourceOf(fn).Properties['ReservedConcurrentExecutions']).toBe(1);
      }
    });
  });

  describe('Property: CloudTrail reaches the forwarder through an encrypted queue with a DLQ', () => {
    const rules = () =>
      resourcesOfType(synthesized.json, 'AWS::Events::Rule').filter(
        ([, r]) => r.Properties['EventPattern'] !== undefined,
      );
    const cloudTrailRule = () =>
      rules().find(([, r]) =>
        JSON.stringify(r.Properties['EventPattern']).includes('AWS API Call via CloudTrail'),
      )![1];

    it('includes console actions (the forwarder maps them)', () => {
      // Assess
      expect(CLOUDTRAIL_DETAIL_TYPES).toContain('AWS Console Action via CloudTrail');
      expect(cloudTrailRule().Properties['EventPattern']).toMatchObject({
        'detail-type': expect.arrayContaining(['AWS Console Action via CloudTrail']),
      });
    });

    it('sends AWS Config item changes, and only those, to the same queue with its DLQ', () => {
      // Prepare
      const queue = logicalIdOf(synthesized.stack.functions.forwarderQueue);
      const config = rules().filter(([, r]) =>
        JSON.stringify(r.Properties['EventPattern']).includes('aws.config'),
      );

      // Assess
      expect(config).toHaveLength(1);
      expect(config[0]![1].Properties['EventBusName']).toBeUndefined();
      expect(config[0]![1].Properties['EventPattern']).toEqual({
        source: ['aws.config'],
        'detail-type': ['Config Configuration Item Change'],
      });
      expect(CONFIG_EVENT_PATTERN.detailType).toEqual(['Config Configuration Item Change']);
      expect(config[0]![1].Properties['Targets']).toEqual([
        expect.objectContaining({
          Arn: { 'Fn::GetAtt': [queue, 'Arn'] },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [logicalIdOf(synthesized.stack.functions.forwarderDeadLetters), 'Arn'] },
          },
        }),
      ]);
    });

    it('lets each rule, and nothing else, send to the queue', () => {
      // Prepare
      const queue = logicalIdOf(synthesized.stack.functions.forwarderQueue);
      const policies = resourcesOfType(synthesized.json, 'AWS::SQS::QueuePolicy').filter(([, p]) =>
        JSON.stringify(p.Properties['Queues']).includes(queue),
      );
      const statements = policies.flatMap(
        ([, p]) => (p.Properties['PolicyDocument'] as { Statement: Record<string, unknown>[] }).Statement,
      );
      const sends = statements.filter((s) => s['Effect'] === 'Allow');

      // Assess: one Allow per rule that targets the queue (CloudTrail, AWS Config), each bound to its ARN.
      const targeting = rules()
        .filter(([, r]) => JSON.stringify(r.Properties['Targets']).includes(queue))
        .map(([id]) => id);
      expect(targeting).toHaveLength(2);
      expect(sends).toHaveLength(2);
      for (const send of sends) {
        expect(send['Principal']).toEqual({ Service: 'events.amazonaws.com' });
        expect(send['Action']).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
      }
      expect(sends.map((send) => JSON.stringify(send['Condition'])).sort()).toEqual(
        targeting
          .map((id) => JSON.stringify({ ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [id, 'Arn'] } } }))
          .sort(),
      );
    });

    it('matches the four CloudTrail detail-types on the default bus and sends them to the queue', () => {
      // Prepare
      const queue = logicalIdOf(synthesized.stack.functions.forwarderQueue);
      const rule = cloudTrailRule();

      // Assess
      expect(rule.Properties['EventBusName']).toBeUndefined();
      expect(rule.Properties['EventPattern']).toMatchObject({
        'detail-type': [...CLOUDTRAIL_DETAIL_TYPES],
      });
      expect(rule.Properties['Targets']).toEqual([
        expect.objectContaining({
          Arn: { 'Fn::GetAtt': [queue, 'Arn'] },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [logicalIdOf(synthesized.stack.functions.forwarderDeadLetters), 'Arn'] },
          },
        }),
      ]);
    });

    it('leaves out the forwarder’s own KMS calls, which would otherwise loop', () => {
      // Prepare
      const rule = cloudTrailRule();
      const either = (rule.Properties['EventPattern'] as { detail: { $or: unknown[] } }).detail.$or;

      // Assess
      expect(JSON.stringify(either)).toContain(logicalIdOf(synthesized.stack.functions.forwarder.role!));
      expect(either).toContainEqual({ eventSource: [{ 'anything-but': ['kms.amazonaws.com'] }] });
    });

    it('encrypts the queue, redrives it to the DLQ, and reports partial batch failures', () => {
      // Prepare
      const { forwarderQueue, forwarderDeadLetters, forwarder } = synthesized.stack.functions;

      // Assess
      expect(resourceOf(forwarderQueue).Properties).toMatchObject({
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalIdOf(forwarderDeadLetters), 'Arn'] } },
      });
      expect(resourceOf(forwarderDeadLetters).Properties).toMatchObject({ SqsManagedSseEnabled: true });
      synthesized.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(forwarderQueue), 'Arn'] },
        FunctionName: { Ref: logicalIdOf(forwarder) },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });

    it('keeps the queue’s visibility timeout above the forwarder’s timeout', () => {
      // Assess
      const { forwarderQueue, forwarder } = synthesized.stack.functions;
      expect(resourceOf(forwarderQueue).Properties['VisibilityTimeout']).toBeGreaterThan(
        resourceOf(forwarder).Properties['Timeout'] as number,
      );
    });
  });

  describe('Property: a heartbeat every minute seals idle periods', () => {
    it('invokes the heartbeat on rate(1 minute)', () => {
      // Assess
      synthesized.template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [logicalIdOf(synthesized.stack.functions.heartbeat), 'Arn'] },
          }),
        ],
      });
    });
  });
});

describe('Construct: PrivateNetwork', () => {
  it('has no internet gateway and no NAT, only isolated subnets, and flow logs', () => {
    // Assess
    synthesized.template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    synthesized.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    for (const [, subnet] of resourcesOfType(synthesized.json, 'AWS::EC2::Subnet')) {
      expect(subnet.Properties['MapPublicIpOnLaunch']).toBe(false);
    }
    synthesized.template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL' });
  });

  it('reaches DynamoDB and S3 through gateway endpoints limited to the ledger table and the digest bucket', () => {
    // Prepare
    const gateways = resourcesOfType(synthesized.json, 'AWS::EC2::VPCEndpoint').filter(
      ([, e]) => e.Properties['VpcEndpointType'] === 'Gateway',
    );

    // Assess
    expect(gateways).toHaveLength(2);
    const resources = JSON.stringify(gateways.map(([, e]) => e.Properties['PolicyDocument']));
    expect(resources).toContain(logicalIdOf(synthesized.stack.ledger.table));
    expect(resources).toContain(logicalIdOf(synthesized.stack.digests.bucket));
    expect(resources).not.toContain('"Resource":"*"');
  });

  it('reaches KMS and SNS through interface endpoints with private DNS', () => {
    // Assess
    for (const service of ['kms', 'sns', 'execute-api']) {
      synthesized.template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
        ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, `.${service}`]] },
      });
    }
  });
});

describe('Construct: AlarmTopic', () => {
  it('is an encrypted topic that only accepts TLS', () => {
    // Prepare
    const topic = resourceOf(synthesized.stack.alarms.topic);

    // Assess
    expect(topic.Properties['KmsMasterKeyId']).toEqual({
      'Fn::GetAtt': [logicalIdOf(synthesized.stack.alarms.key), 'Arn'],
    });
    synthesized.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ],
      },
    });
  });

  it('watches for the phrase the stream function logs', () => {
    // Assess
    const source = readFileSync(new URL('../../functions/sealing-runtime.ts', import.meta.url), 'utf8');
    expect(source).toContain(`\`${TAMPER_ALARM_LOG_PHRASE} \${alarm.kind}`);
  });

  it('turns each AUDITSEAL ALARM line of the stream function into an alarm on the topic', () => {
    // Prepare
    const sealerLogs = synthesized.stack.functions.sealer.logGroup;

    // Assess
    synthesized.template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: { Ref: logicalIdOf(sealerLogs) },
      FilterPattern: `"${TAMPER_ALARM_LOG_PHRASE}"`,
    });
  });

  it('turns SEALING_LAG lines of the heartbeat and the stream function into a SealingLag alarm on the topic', () => {
    // Prepare
    const groups = [
      synthesized.stack.functions.sealer.logGroup,
      synthesized.stack.functions.heartbeat.logGroup,
    ];

    // Assess
    for (const group of groups) {
      synthesized.template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: { Ref: logicalIdOf(group) },
        FilterPattern: `"${SEALING_LAG_LOG_PHRASE}"`,
        MetricTransformations: [Match.objectLike({ MetricName: 'SealingLag' })],
      });
    }
    synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'SealingLag',
      Threshold: 1,
      AlarmActions: [{ Ref: logicalIdOf(synthesized.stack.alarms.topic) }],
    });
  });

  it('sends every alarm to the topic', () => {
    // Prepare
    const topic = logicalIdOf(synthesized.stack.alarms.topic);
    const alarms = resourcesOfType(synthesized.json, 'AWS::CloudWatch::Alarm');

    // Assess
    expect(alarms.length).toBe(synthesized.stack.alarms.alarms.length);
    expect(alarms.length).toBeGreaterThanOrEqual(6);
    for (const [, alarm] of alarms) {
      expect(alarm.Properties['AlarmActions']).toEqual([{ Ref: topic }]);
    }
  });

  it('tells the stream function where the topic is', () => {
    // Assess
    expect(environmentOf(resourceOf(synthesized.stack.functions.sealer))['AUDITSEAL_ALARM_TOPIC']).toEqual({
      Ref: logicalIdOf(synthesized.stack.alarms.topic),
    });
  });
});

/** A function's environment with each resource reference replaced by a plausible deployed value. */
function deployedEnvironment(fn: CfnResource): Record<string, string> {
  const deployed: Record<string, string> = {};
  for (const [name, value] of Object.entries(environmentOf(fn))) {
    if (typeof value === 'string') deployed[name] = value;
    else if (name === 'AUDITSEAL_KMS_KEY_ID') deployed[name] = 'arn:aws:kms:eu-west-1:111122223333:key/abcd';
    else deployed[name] = 'resource-from-ref';
  }
  return deployed;
}
