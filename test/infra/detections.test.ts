/**
 * Detections and the Kubernetes source in the CDK app: the detection function on the ledger stream
 * (filtered to event-row INSERTs, its own dead letters), the encrypted alert topic, EventBridge, the rules
 * (shipped, operator folder, bucket prefix, disabled ids) and the optional Kubernetes forwarder with its
 * subscription filters. The bundle's rules are checked in nag.test.ts, which bundles.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIngestConfig } from '../../functions/config.ts';
import { parseDetectionConfig } from '../../functions/detection-runtime.ts';
import { parseKubernetesSources } from '../../functions/forward-cloudwatch-logs.ts';
import { settingsFromContext } from '../../infra/app.ts';
import { API_ROUTES } from '../../infra/constructs/api-routes.ts';
import {
  actionsOf,
  allStatements,
  type CfnResource,
  identityStatementsOfRole,
  logicalIdOf,
  resourcesOfType,
  type Synthesized,
  synthesize,
} from './synthesize.ts';

const folder = mkdtempSync(join(tmpdir(), 'auditseal-operator-rules-'));
writeFileSync(join(folder, 'ssh.yml'), 'title: x\n');
let plain: Synthesized;
let configured: Synthesized;
beforeAll(() => {
  plain = synthesize();
  configured = synthesize({
    context: {
      'auditseal:detectionRulesFolder': folder,
      'auditseal:detectionRulesBucket': 'acme-sigma-rules',
      'auditseal:detectionRulesPrefix': 'auditseal/',
      'auditseal:detectionDisabledRules': '0a5177f4-6ca9-44c2-aacf-d3f3d8b6e4d2',
      'auditseal:kubernetesLogGroups': '/aws/eks/prod/cluster,/aws/eks/staging/cluster',
    },
  });
});
afterAll(() => {
  plain?.dispose();
  configured?.dispose();
  rmSync(folder, { recursive: true, force: true });
});

function resourceOf(s: Synthesized, construct: Parameters<typeof logicalIdOf>[0]): CfnResource {
  return s.json.Resources[logicalIdOf(construct)]!;
}

function environmentOf(fn: CfnResource): Record<string, unknown> {
  return (fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
}

/** A rendered environment with CloudFormation references replaced by placeholders of the right shape. */
function concreteEnvironment(fn: CfnResource): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environmentOf(fn)).map(([k, v]) => [
      k,
      typeof v === 'string'
        ? v
        : k === 'AUDITSEAL_ALERT_TOPIC'
          ? 'arn:aws:sns:eu-west-1:123456789012:auditseal-main-alerts'
          : k === 'AUDITSEAL_KUBERNETES_CLUSTERS'
            ? '{}'
            : 'resolved-at-deploy',
    ]),
  );
}

describe('Construct: Detections', () => {
  it('reads the ledger stream: event-row INSERTs of its ledger only, with its own on-failure queue', () => {
    // Prepare
    const fn = logicalIdOf(plain.stack.detections.function);
    const mappings = resourcesOfType(plain.json, 'AWS::Lambda::EventSourceMapping').filter(([, m]) =>
      JSON.stringify(m.Properties['FunctionName']).includes(fn),
    );

    // Assess
    expect(mappings).toHaveLength(1);
    const [, mapping] = mappings[0]!;
    expect(mapping.Properties).toMatchObject({
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: {
        OnFailure: {
          Destination: { 'Fn::GetAtt': [logicalIdOf(plain.stack.detections.streamFailures), 'Arn'] },
        },
      },
    });
    const pattern = JSON.parse(
      (mapping.Properties['FilterCriteria'] as { Filters: { Pattern: string }[] }).Filters[0]!.Pattern,
    );
    expect(pattern).toEqual({
      eventName: ['INSERT'],
      dynamodb: { Keys: { pk: { S: [{ prefix: 'EV#main#' }] } } },
    });
  });

  it('writes alerts like an ingest function, publishes to the alert topic and puts events on the default bus', () => {
    // Prepare
    const fn = plain.stack.detections.function;
    const statements = identityStatementsOfRole(plain.json, logicalIdOf(fn.role!));
    const actions = statements.flatMap(actionsOf);

    // Assess
    expect(actions).toEqual(expect.arrayContaining(['kms:Sign', 'sns:Publish', 'events:PutEvents']));
    expect(actions.some((a) => /^dynamodb:(UpdateItem|DeleteItem)$/.test(a))).toBe(false);
    const putEvents = statements.find((s) => actionsOf(s).includes('events:PutEvents'))!;
    expect(JSON.stringify(putEvents.Resource)).toContain(':event-bus/default');
  });

  it('gives the function an environment its cold start parses, with the shipped rules in the bundle', () => {
    // Prepare
    const env = concreteEnvironment(resourceOf(plain, plain.stack.detections.function));

    // Act
    const detection = parseDetectionConfig(env);

    // Assess
    expect(() => parseIngestConfig(env)).not.toThrow();
    expect(detection.AUDITSEAL_RULES_DIR).toBe('/var/task/rules/sigma');
    expect(detection.AUDITSEAL_EXTRA_RULES_DIR).toBeUndefined();
    expect(env['AUDITSEAL_EVENT_BUS']).toBe('default');
  });

  it('encrypts the alert topic with the alarm key and refuses anything but TLS', () => {
    // Prepare
    const topic = resourceOf(plain, plain.stack.detections.topic);

    // Assess
    expect(topic.Properties['KmsMasterKeyId']).toEqual({
      'Fn::GetAtt': [logicalIdOf(plain.stack.alarms.key), 'Arn'],
    });
    expect(topic.Properties['TopicName']).toBe('auditseal-main-alerts');
    plain.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: logicalIdOf(plain.stack.detections.topic) }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ],
      },
    });
  });

  it('serves GET /v1/alerts to readers and auditors', () => {
    // Assess
    expect(API_ROUTES).toContainEqual(
      expect.objectContaining({
        method: 'GET',
        path: '/v1/alerts',
        roles: ['reader', 'auditor'],
        handler: 'list-alerts',
      }),
    );
  });

  describe('when the operator configures rules', () => {
    it('ships the folder in the bundle, reads only the bucket prefix, and names the disabled rules', () => {
      // Prepare
      const fn = configured.stack.detections.function;
      const env = concreteEnvironment(resourceOf(configured, fn));
      const statements = identityStatementsOfRole(configured.json, logicalIdOf(fn.role!));
      const s3Resources = statements
        .filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')))
        .map((s) => JSON.stringify(s.Resource));

      // Act
      const detection = parseDetectionConfig({ ...env, AUDITSEAL_RULES_BUCKET: 'acme-sigma-rules' });

      // Assess
      expect(detection.AUDITSEAL_EXTRA_RULES_DIR).toBe('/var/task/operator-rules');
      expect(detection.AUDITSEAL_RULES_PREFIX).toBe('auditseal/');
      expect(detection.AUDITSEAL_DISABLED_RULES).toBe('0a5177f4-6ca9-44c2-aacf-d3f3d8b6e4d2');
      expect(s3Resources.join()).toContain('acme-sigma-rules/auditseal/*');
      expect(s3Resources.join()).not.toMatch(/acme-sigma-rules\/\*"/);
      const endpointStatements = allStatements(configured.json).filter(
        (s) => s.where.includes('S3') && JSON.stringify(s.statement.Resource).includes('acme-sigma-rules'),
      );
      expect(endpointStatements.flatMap((s) => actionsOf(s.statement)).sort()).toEqual([
        's3:GetObject',
        's3:ListBucket',
      ]);
    });

    describe('when a prefix is given without a bucket', () => {
      it('refuses the context, naming both keys', () => {
        expect(() => settingsFromContext({ 'auditseal:detectionRulesPrefix': 'x/' })).toThrow(
          /detectionRulesPrefix needs auditseal:detectionRulesBucket/,
        );
      });
    });
  });
});

describe('Construct: KubernetesAuditSource', () => {
  it('is not deployed unless a log group is named', () => {
    // Assess
    expect(plain.stack.kubernetes).toBeUndefined();
    expect(resourcesOfType(plain.json, 'AWS::Logs::SubscriptionFilter')).toEqual([]);
  });

  describe('when log groups are named', () => {
    it('subscribes each to the forwarder, which CloudWatch Logs may invoke for that group only', () => {
      // Prepare
      const forwarder = logicalIdOf(configured.stack.kubernetes!.function);
      const filters = resourcesOfType(configured.json, 'AWS::Logs::SubscriptionFilter');
      const permissions = resourcesOfType(configured.json, 'AWS::Lambda::Permission').filter(([, p]) =>
        JSON.stringify(p.Properties['FunctionName']).includes(forwarder),
      );

      // Assess
      expect(filters.map(([, f]) => f.Properties['LogGroupName']).sort()).toEqual([
        '/aws/eks/prod/cluster',
        '/aws/eks/staging/cluster',
      ]);
      for (const [, filter] of filters) {
        expect(filter.Properties['DestinationArn']).toEqual({ 'Fn::GetAtt': [forwarder, 'Arn'] });
        expect(filter.Properties['FilterPattern']).toBe('');
      }
      expect(permissions.map(([, p]) => p.Properties['Principal'])).toEqual([
        'logs.amazonaws.com',
        'logs.amazonaws.com',
      ]);
      expect(permissions.map(([, p]) => JSON.stringify(p.Properties['SourceArn'])).join()).toContain(
        '/aws/eks/prod/cluster',
      );
    });

    it('keeps refused payloads in a dead-letter queue after two retries, and alarms on it', () => {
      // Prepare
      const config = resourcesOfType(configured.json, 'AWS::Lambda::EventInvokeConfig')[0]![1];

      // Assess
      expect(config.Properties).toMatchObject({
        MaximumRetryAttempts: 2,
        DestinationConfig: {
          OnFailure: {
            Destination: { 'Fn::GetAtt': [logicalIdOf(configured.stack.kubernetes!.deadLetters), 'Arn'] },
          },
        },
      });
      expect(configured.stack.alarms.alarms.map((a) => a.node.id)).toContain('KubernetesDeadLetters');
    });

    it('gives the forwarder an environment its cold start parses', () => {
      // Prepare
      const env = concreteEnvironment(resourceOf(configured, configured.stack.kubernetes!.function));

      // Act and Assess
      expect(() => parseIngestConfig(env)).not.toThrow();
      expect(parseKubernetesSources(env).clusters?.size ?? 0).toBe(0);
    });
  });
});
