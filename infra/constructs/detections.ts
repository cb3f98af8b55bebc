/**
 * Detections (G9): the detection function on the ledger stream (a second event source mapping, filtered
 * to event-row INSERTs), the encrypted SNS topic alerts are announced on, the EventBridge default bus it
 * puts `auditseal Detection` events on, and where its rules come from: the shipped Sigma rules (copied
 * into the bundle), an operator's folder (copied too) and an operator's S3 prefix (read at cold start).
 * Design: docs/DETECTIONS.md §9; parameters: docs/DEPLOY.md.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Arn, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { streamEventSourceProps } from '../resources/cdk-props.ts';
import type { StreamEventSourceDefinition } from '../resources/definitions.ts';
import { grantAccess, type LedgerResources, withEnv, withSetting } from './function-environment.ts';
import { deadLetterQueue, WRITER_TIMEOUT } from './functions.ts';
import { handlerFunction } from './handler-function.ts';
import type { PrivateNetwork } from './private-network.ts';

/** Where the shipped rules live in the repository, and in the bundle. */
export const SHIPPED_RULES_SOURCE = fileURLToPath(new URL('../../shared/detect/rules/', import.meta.url));
export const SHIPPED_RULES_IN_BUNDLE = 'rules';
export const OPERATOR_RULES_IN_BUNDLE = 'operator-rules';
/** Lambda's task root: where the bundle is at run time. */
const TASK_ROOT = '/var/task';

/** Where an operator's own Sigma rules come from (any, all or none of these). */
export interface DetectionRulesSettings {
  /** A folder on the machine that synthesizes, copied into the function's bundle. */
  readonly folder?: string;
  /** A bucket (name) and prefix read at cold start; the function may only list and get under the prefix. */
  readonly bucketName?: string;
  readonly prefix?: string;
  /** Rule ids not to run (for example the broad `aws_iam_backdoor_users_keys`, docs/DETECTIONS.md §3). */
  readonly disabled?: readonly string[];
}

export interface DetectionsProps extends LedgerResources {
  readonly network: PrivateNetwork;
  readonly streamEventSource: StreamEventSourceDefinition;
  /** `auditseal-<ledger>`: the topic is `<prefix>-alerts`. */
  readonly namePrefix: string;
  readonly rules?: DetectionRulesSettings;
}

/** The detection function, its trigger and dead letters, and the alert topic. */
export class Detections extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly topic: sns.Topic;
  /** Stream batches the event source mapping gave up on: possibly unraised alerts. */
  readonly streamFailures: sqs.Queue;

  constructor(scope: Construct, id: string, props: DetectionsProps) {
    super(scope, id);
    const rules = props.rules ?? {};
    const folder = rules.folder === undefined ? undefined : resolve(rules.folder);
    this.function = handlerFunction(this, 'DetectEvents', {
      handler: 'detect-events',
      description: 'auditseal detections: Sigma rules on the ledger stream, alerts as ledger events',
      network: props.network,
      timeout: WRITER_TIMEOUT,
      memorySize: 1024,
      copyIntoBundle: [
        { from: SHIPPED_RULES_SOURCE, to: SHIPPED_RULES_IN_BUNDLE },
        ...(folder === undefined ? [] : [{ from: folder, to: OPERATOR_RULES_IN_BUNDLE }]),
      ],
    });
    const fn = this.function;
    // Alerts are written through the ingest core: append and sign, like the ingest functions.
    grantAccess(fn, 'ingest', props);
    withSetting(fn, 'AUDITSEAL_RULES_DIR', `${TASK_ROOT}/${SHIPPED_RULES_IN_BUNDLE}/sigma`);
    if (folder !== undefined)
      withSetting(fn, 'AUDITSEAL_EXTRA_RULES_DIR', `${TASK_ROOT}/${OPERATOR_RULES_IN_BUNDLE}`);
    if (rules.disabled !== undefined && rules.disabled.length > 0) {
      withSetting(fn, 'AUDITSEAL_DISABLED_RULES', rules.disabled.join(','));
    }
    if (rules.bucketName !== undefined) {
      const bucket = s3.Bucket.fromBucketName(this, 'RulesBucket', rules.bucketName);
      const prefix = rules.prefix ?? '';
      withEnv(fn, 'AUDITSEAL_RULES_BUCKET', bucket.bucketName, (g) => bucket.grantRead(g, `${prefix}*`));
      withSetting(fn, 'AUDITSEAL_RULES_PREFIX', prefix);
      props.network.allowBucketRead(bucket, prefix);
      Validations.of(fn).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${rules.bucketName}/${prefix}*]`,
        reason: 'The operator rules prefix: the function reads every rule file under it, and nothing else.',
      });
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-IAM5[Action::s3:GetBucket*]',
        reason: 'CDK grantRead includes GetBucketLocation-style reads of the rules bucket itself; no data.',
      });
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-IAM5[Action::s3:GetObject*]',
        reason: 'Reading the rule objects (and their versions) under the rules prefix only.',
      });
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-IAM5[Action::s3:List*]',
        reason: 'Listing the rules prefix to find the rule files.',
      });
    }

    this.topic = new sns.Topic(this, 'Topic', {
      topicName: `${props.namePrefix}-alerts`,
      displayName: 'auditseal detection alerts',
      masterKey: props.alarms.key,
      enforceSSL: true,
    });
    withEnv(fn, 'AUDITSEAL_ALERT_TOPIC', this.topic.topicArn, (g) => this.grantPublish(g, props));
    const defaultBus = Arn.format(
      { service: 'events', resource: 'event-bus', resourceName: 'default' },
      Stack.of(this),
    );
    withEnv(fn, 'AUDITSEAL_EVENT_BUS', 'default', (g) =>
      iam.Grant.addToPrincipal({ grantee: g, actions: ['events:PutEvents'], resourceArns: [defaultBus] }),
    );

    this.streamFailures = deadLetterQueue(this, 'StreamFailures');
    fn.addEventSource(
      new sources.DynamoEventSource(props.ledger.table, {
        ...streamEventSourceProps(props.streamEventSource),
        // Only event rows, as they land: everything else on the stream is the sealer's business.
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual('INSERT'),
            dynamodb: { Keys: { pk: { S: lambda.FilterRule.beginsWith(`EV#${props.settings.ledger}#`) } } },
          }),
        ],
        onFailure: new sources.SqsDlq(this.streamFailures),
      }),
    );
    if (props.settings.graceSeconds <= fn.timeout!.toSeconds()) {
      throw new Error(
        `graceSeconds (${props.settings.graceSeconds}) must exceed the timeout of ${fn.node.path} ` +
          `(${fn.timeout!.toSeconds()} s): a late alert would miss its period's digest`,
      );
    }

    const atLeastOne = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    props.alarms.addAlarm('DetectionErrors', {
      alarmDescription:
        'The detection function failed a stream batch; the stream retries it (alerts are idempotent).',
      metric: fn.metricErrors({ period: Duration.minutes(1) }),
      ...atLeastOne,
    });
    props.alarms.addAlarm('DetectionStreamFailures', {
      alarmDescription:
        'Stream records were given up on by the detection function: their alerts may be missing.',
      metric: this.streamFailures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      ...atLeastOne,
    });
  }

  get topicArn(): string {
    return this.topic.topicArn;
  }

  /** Publish to the alert topic, with the topic key's data-key actions (as the alarm topic grants them). */
  grantPublish(grantee: iam.IGrantable, props: Pick<LedgerResources, 'alarms'>): iam.Grant {
    const publish = iam.Grant.addToPrincipal({
      grantee,
      actions: ['sns:Publish'],
      resourceArns: [this.topic.topicArn],
    });
    const keyActions = ['kms:GenerateDataKey', 'kms:Decrypt'];
    props.alarms.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [grantee.grantPrincipal],
        actions: keyActions,
        resources: ['*'],
      }),
    );
    return publish.combine(
      iam.Grant.addToPrincipal({ grantee, actions: keyActions, resourceArns: [props.alarms.key.keyArn] }),
    );
  }
}
