/**
 * G1 and G7 in IAM terms: no policy of the stack allows an action that changes or deletes a ledger item or
 * an object, or a wildcard that would cover one; each function holds exactly the grants of its access,
 * set together with the environment variable that names the resource.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES, deployedRoutes } from '../../infra/constructs/api-routes.ts';
import { ACCESS_CAPABILITIES } from '../../infra/constructs/function-environment.ts';
import {
  actionMatches,
  actionsOf,
  allStatements,
  identityStatementsOfRole,
  type LocatedStatement,
  logicalIdOf,
  renderList,
  resourcesOfType,
  type Synthesized,
  synthesize,
} from './synthesize.ts';

/** Actions no Allow statement may grant, or cover with a wildcard. */
const FORBIDDEN_ACTIONS = [
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
  'dynamodb:DeleteTable',
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:PutObjectRetention',
  's3:PutObjectLegalHold',
  's3:BypassGovernanceRetention',
  's3:PutBucketObjectLockConfiguration',
  's3:DeleteBucket',
] as const;

/** Wildcards that must not appear literally in any Allow statement. */
const FORBIDDEN_WILDCARDS = ['*', 'dynamodb:*', 's3:*', 'kms:*', 'sns:*', 'sqs:*', 'execute-api:*'] as const;

/** The only AWS managed policies the stack may attach. */
const ALLOWED_MANAGED_POLICIES = [
  'service-role/AWSLambdaBasicExecutionRole',
  'service-role/AWSLambdaVPCAccessExecutionRole',
  'service-role/AmazonAPIGatewayPushToCloudWatchLogs',
];

let synthesized: Synthesized;
let allows: LocatedStatement[];
beforeAll(() => {
  synthesized = synthesize();
  allows = allStatements(synthesized.json).filter(({ statement }) => statement.Effect === 'Allow');
});
afterAll(() => synthesized.dispose());

describe('Template: every policy statement', () => {
  it('scans identity and resource policies alike', () => {
    // Assess: a scan that found nothing would pass every test below.
    const kinds = new Set(allows.map(({ where }) => synthesized.json.Resources[where]!.Type));
    expect(kinds).toEqual(
      new Set([
        'AWS::IAM::Policy',
        'AWS::IAM::ManagedPolicy',
        'AWS::IAM::Role',
        'AWS::KMS::Key',
        'AWS::S3::BucketPolicy',
        'AWS::SQS::QueuePolicy',
        'AWS::ApiGateway::RestApi',
        'AWS::EC2::VPCEndpoint',
      ]),
    );
    expect(allows.length).toBeGreaterThan(20);
  });

  describe('when an Allow statement names an action', () => {
    it.each(FORBIDDEN_ACTIONS)('never allows %s, not even through a wildcard', (forbidden) => {
      // Assess
      const offending = allows.filter(({ statement }) =>
        actionsOf(statement).some((pattern) => actionMatches(pattern, forbidden)),
      );
      expect(offending.map(({ where }) => where)).toEqual([]);
    });

    it.each(FORBIDDEN_WILDCARDS)('never allows the wildcard %s', (wildcard) => {
      // Assess
      const offending = allows.filter(({ statement }) => actionsOf(statement).includes(wildcard));
      expect(offending.map(({ where }) => where)).toEqual([]);
    });

    it('never uses NotAction (an allow-list in disguise)', () => {
      // Assess
      expect(allows.filter(({ statement }) => statement.NotAction !== undefined)).toEqual([]);
    });
  });

  it('attaches no managed policy but the AWS service-role ones functions and API Gateway need', () => {
    // Prepare
    const attached = resourcesOfType(synthesized.json, 'AWS::IAM::Role').flatMap(([, role]) =>
      renderList(role.Properties['ManagedPolicyArns']),
    );

    // Assess
    expect(attached.length).toBeGreaterThan(0);
    for (const arn of attached) {
      expect(
        ALLOWED_MANAGED_POLICIES.some((name) => arn === `arn:\${AWS::Partition}:iam::aws:policy/${name}`),
      ).toBe(true);
    }
  });
});

describe('Construct: Functions', () => {
  describe('Property: each function holds exactly the grants of its access', () => {
    it('gives the ledger to the ingest function for reads and conditional puts only', () => {
      // Prepare
      const fn = synthesized.stack.functions.routeHandlers.get('ingest-events')!;

      // Assess
      expect(dataActions(fn.role!)).toEqual({
        dynamodb: [
          'dynamodb:BatchGetItem',
          'dynamodb:ConditionCheckItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
        ],
        kms: ['kms:GetPublicKey', 'kms:Sign'],
      });
    });

    it('gives the auditor functions reads only, and the public key, never kms:Sign', () => {
      // Prepare
      const auditors = ['list-digests', 'get-digest', 'get-head', 'get-keys', 'list-alarms'].map(
        (handler) => synthesized.stack.functions.routeHandlers.get(handler)!,
      );

      // Assess
      expect(ACCESS_CAPABILITIES.audit).not.toContain('sign');
      for (const fn of auditors) {
        expect(dataActions(fn.role!)).toEqual({
          dynamodb: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'],
          s3: ['s3:GetObject', 's3:ListBucket'],
          kms: ['kms:GetPublicKey'],
          // Every read is recorded (G7): one message to the read journal per read.
          sqs: ['sqs:SendMessage'],
        });
      }
    });

    it('gives the event read functions reads only: no put, no sign; the search the indexes and the cursor key', () => {
      // Prepare
      const routes = synthesized.stack.functions.routeHandlers;
      const table = logicalIdOf(synthesized.stack.ledger.table);
      const search = routes.get('search-events')!;

      // Assess
      expect(dataActions(search.role!)).toEqual({
        dynamodb: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'],
        kms: ['kms:GenerateMac'],
        sqs: ['sqs:SendMessage'],
      });
      const indexQueries = identityStatementsOfRole(synthesized.json, logicalIdOf(search.role!))
        .filter((s) => JSON.stringify(s.Resource).includes('/index/'))
        .flatMap((s) => renderList(s.Resource))
        .sort();
      expect(indexQueries).toEqual(
        ['byAction', 'byActor', 'byKind', 'byResource', 'byResourceTime'].map(
          (name) => `\${${table}.Arn}/index/${name}`,
        ),
      );
      for (const handler of ['get-event', 'get-event-proof']) {
        expect(dataActions(routes.get(handler)!.role!)).toEqual({
          dynamodb: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'],
          s3: ['s3:GetObject', 's3:ListBucket'],
          sqs: ['sqs:SendMessage'],
        });
      }
    });

    it('lets the sealing functions create objects under digests/ and archives/ only', () => {
      // Prepare
      const { sealer, heartbeat } = synthesized.stack.functions;
      const bucket = logicalIdOf(synthesized.stack.digests.bucket);

      // Assess
      for (const fn of [sealer, heartbeat]) {
        const puts = identityStatementsOfRole(synthesized.json, logicalIdOf(fn.role!)).filter((s) =>
          actionsOf(s).includes('s3:PutObject'),
        );
        expect(puts.flatMap((s) => renderList(s.Resource)).sort()).toEqual([
          `\${${bucket}.Arn}/archives/*`,
          `\${${bucket}.Arn}/digests/*`,
        ]);
      }
    });

    it('lets only the stream function publish to the alarm topic, and only the detection function to the alert topic', () => {
      // Prepare
      const publishersTo = (topic: Parameters<typeof logicalIdOf>[0]) =>
        allows.filter(
          ({ statement }) =>
            actionsOf(statement).includes('sns:Publish') &&
            JSON.stringify(statement.Resource).includes(logicalIdOf(topic)),
        );
      const policyOf = (role: Parameters<typeof logicalIdOf>[0]) =>
        identityStatementsOfRole(synthesized.json, logicalIdOf(role));

      // Assess
      expect(publishersTo(synthesized.stack.alarms.topic)).toHaveLength(1);
      expect(publishersTo(synthesized.stack.detections.topic)).toHaveLength(1);
      expect(allows.filter(({ statement }) => actionsOf(statement).includes('sns:Publish'))).toHaveLength(2);
      expect(policyOf(synthesized.stack.functions.sealer.role!)).toContainEqual(
        expect.objectContaining({
          Action: 'sns:Publish',
          Resource: { Ref: logicalIdOf(synthesized.stack.alarms.topic) },
        }),
      );
      expect(policyOf(synthesized.stack.detections.function.role!)).toContainEqual(
        expect.objectContaining({
          Action: 'sns:Publish',
          Resource: { Ref: logicalIdOf(synthesized.stack.detections.topic) },
        }),
      );
    });
  });

  describe('Property: a resource variable comes with its grant (withEnv)', () => {
    it.each<[string, string, () => string | undefined]>([
      ['AUDITSEAL_TABLE', 'dynamodb', () => undefined],
      ['AUDITSEAL_BUCKET', 's3', () => undefined],
      ['AUDITSEAL_KMS_KEY_ID', 'kms', () => logicalIdOf(synthesized.stack.signingKey.key)],
      ['AUDITSEAL_CURSOR_MAC_KEY_ID', 'kms', () => logicalIdOf(synthesized.stack.cursorKey.key)],
      ['AUDITSEAL_ALARM_TOPIC', 'sns', () => logicalIdOf(synthesized.stack.alarms.topic)],
      ['AUDITSEAL_ALERT_TOPIC', 'sns', () => logicalIdOf(synthesized.stack.detections.topic)],
      ['AUDITSEAL_EVENT_BUS', 'events', () => undefined],
    ])(
      'every function with %s may use %s (on that resource), and every function that may has the variable',
      (variable, service, resource) => {
        // Prepare
        const functions = resourcesOfType(synthesized.json, 'AWS::Lambda::Function').filter(
          ([, fn]) => fn.Properties['VpcConfig'] !== undefined,
        );
        const named = resource();

        // Assess
        expect(functions.length).toBeGreaterThan(0);
        for (const [id, fn] of functions) {
          const role = (fn.Properties['Role'] as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
          const variables = (fn.Properties['Environment'] as { Variables: Record<string, unknown> })
            .Variables;
          const mayUse = identityStatementsOfRole(synthesized.json, role).some(
            (s) =>
              actionsOf(s).some((a) => a.startsWith(`${service}:`) && !isEventSourceAction(a)) &&
              (named === undefined || JSON.stringify(s.Resource).includes(named)),
          );
          expect(variables[variable] !== undefined, `${id} ${variable}`).toBe(mayUse);
        }
      },
    );

    it('every function with AUDITSEAL_READ_QUEUE_URL may send to the read journal, and only those', () => {
      // Prepare
      const queue = logicalIdOf(synthesized.stack.readJournal.queue);
      const functions = resourcesOfType(synthesized.json, 'AWS::Lambda::Function').filter(
        ([, fn]) => fn.Properties['VpcConfig'] !== undefined,
      );
      // Assess
      const senders = functions.filter(([, fn]) => {
        const role = (fn.Properties['Role'] as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
        return identityStatementsOfRole(synthesized.json, role).some(
          (s) => actionsOf(s).includes('sqs:SendMessage') && JSON.stringify(s.Resource).includes(queue),
        );
      });
      const withVariable = functions.filter(
        ([, fn]) =>
          (fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables[
            'AUDITSEAL_READ_QUEUE_URL'
          ] !== undefined,
      );
      expect(senders.map(([id]) => id).sort()).toEqual(withVariable.map(([id]) => id).sort());
      // Every read route's function, and nothing that writes events.
      expect(senders.length).toBe(deployedRoutes(API_ROUTES).filter((r) => r.method === 'GET').length);
    });
  });
});

/** The data-plane actions a role may use, by service (tracing and event-source plumbing left out). */
function dataActions(role: Parameters<typeof logicalIdOf>[0]): Record<string, string[]> {
  const byService: Record<string, Set<string>> = {};
  for (const statement of identityStatementsOfRole(synthesized.json, logicalIdOf(role))) {
    for (const action of actionsOf(statement)) {
      const service = action.split(':')[0]!;
      if (service === 'xray' || isEventSourceAction(action)) continue;
      const actions = byService[service] ?? new Set<string>();
      actions.add(action);
      byService[service] = actions;
    }
  }
  return Object.fromEntries(
    Object.entries(byService).map(([service, actions]) => [service, [...actions].sort()]),
  );
}

/** Actions Lambda's event source mappings use with the function's role (stream and queue polling). */
function isEventSourceAction(action: string): boolean {
  return /^dynamodb:(DescribeStream|GetRecords|GetShardIterator|ListStreams)$|^sqs:(ReceiveMessage|DeleteMessage|ChangeMessageVisibility|GetQueueAttributes|GetQueueUrl)$/.test(
    action,
  );
}
