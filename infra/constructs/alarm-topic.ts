/**
 * Where alarms go: one encrypted SNS topic. Tamper alarms (G5) reach it two ways: the stream function's
 * `TAMPER ALARM` log lines feed a metric filter and a CloudWatch alarm, and the function may publish to
 * the topic itself (`AUDITSEAL_ALARM_TOPIC`). Operational alarms (sealing, heartbeat, dead letters) go to
 * the same topic.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { administeredKeyPolicy } from './key-policy.ts';

/** The phrase the stream function logs for every tamper alarm (functions/seal-periods.ts). */
export const TAMPER_ALARM_LOG_PHRASE = 'AUDITSEAL ALARM';
/** The phrase the sealing functions log when a period is not sealed within its grace plus a margin. */
export const SEALING_LAG_LOG_PHRASE = 'AUDITSEAL ALARM SEALING_LAG';

/** Namespace of the metrics auditseal defines itself. */
export const METRIC_NAMESPACE = 'AuditSeal';

/** What the operational alarms watch. */
export interface SealingHealth {
  /** The stream function: tamper alarms and sealing. */
  readonly sealer: lambda.IFunction & { readonly logGroup: logs.ILogGroup };
  readonly heartbeat: lambda.IFunction & { readonly logGroup: logs.ILogGroup };
  /** Stream batches the event source mapping gave up on: possibly unraised tamper alarms. */
  readonly streamFailures: sqs.IQueue;
  /** CloudTrail events that could not be forwarded. */
  readonly forwarderDeadLetters: sqs.IQueue;
}

export interface AlarmTopicProps {
  readonly topicName: string;
  /** An address subscribed to the topic (it must confirm the subscription). */
  readonly email?: string;
}

/** The alarm topic and the CloudWatch alarms that publish to it. */
export class AlarmTopic extends Construct {
  readonly topic: sns.Topic;
  /** The topic's encryption key. */
  readonly key: kms.Key;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly #namePrefix: string;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    this.#namePrefix = props.topicName;
    // A customer managed key: CloudWatch alarms cannot publish to a topic under the AWS managed SNS key.
    this.key = new kms.Key(this, 'TopicKey', {
      description: 'auditseal alarm topic encryption',
      enableKeyRotation: true,
      policy: administeredKeyPolicy(),
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: props.topicName,
      displayName: 'auditseal alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    if (props.email !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    }
  }

  get topicArn(): string {
    return this.topic.topicArn;
  }

  /** Lets the grantee publish alarms, and use the topic's key to do so (the exact actions SNS needs). */
  grantPublish(grantee: iam.IGrantable): iam.Grant {
    const publish = iam.Grant.addToPrincipal({
      grantee,
      actions: ['sns:Publish'],
      resourceArns: [this.topic.topicArn],
    });
    const keyActions = ['kms:GenerateDataKey', 'kms:Decrypt'];
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [grantee.grantPrincipal],
        actions: keyActions,
        resources: ['*'],
      }),
    );
    const encrypt = iam.Grant.addToPrincipal({
      grantee,
      actions: keyActions,
      resourceArns: [this.key.keyArn],
    });
    return publish.combine(encrypt);
  }

  /** An alarm that publishes to the topic when it fires. */
  addAlarm(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, { alarmName: `${this.#namePrefix}-${kebab(id)}`, ...props });
    alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }

  /** Tamper alarms, and every way sealing can stall or lose input. */
  watchSealing(health: SealingHealth): void {
    this.watchTamperAlarms(health.sealer.logGroup);
    this.watchSealingLag([health.sealer.logGroup, health.heartbeat.logGroup]);
    const atLeastOne = {
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    this.addAlarm('SealerErrors', {
      alarmDescription:
        'The stream function failed a batch: tamper alarms could not be stored; the stream retries.',
      metric: health.sealer.metricErrors({ period: Duration.minutes(1) }),
      evaluationPeriods: 1,
      ...atLeastOne,
    });
    this.addAlarm('StreamIteratorAge', {
      alarmDescription:
        'The ledger stream is more than 30 minutes behind: tamper alarms and sealing are late.',
      metric: health.sealer.metric('IteratorAge', {
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(5),
      }),
      threshold: Duration.minutes(30).toMilliseconds(),
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.addAlarm('StreamFailures', {
      alarmDescription: 'Ledger stream records were given up on after retries: check them for tamper alarms.',
      metric: health.streamFailures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      evaluationPeriods: 1,
      ...atLeastOne,
    });
    this.addAlarm('HeartbeatErrors', {
      alarmDescription: 'Sealing has failed for three minutes in a row: periods are not being sealed (G3).',
      metric: health.heartbeat.metricErrors({ period: Duration.minutes(1) }),
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      ...atLeastOne,
    });
    this.addAlarm('HeartbeatMissing', {
      alarmDescription: 'The heartbeat has not run for five minutes: idle periods are not being sealed (G3).',
      metric: health.heartbeat.metricInvocations({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.addAlarm('ForwarderDeadLetters', {
      alarmDescription: 'CloudTrail events could not be forwarded into the ledger after retries.',
      metric: health.forwarderDeadLetters.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
      }),
      evaluationPeriods: 1,
      ...atLeastOne,
    });
  }

  /**
   * Fires when a sealing function logs a SEALING_LAG alarm: the oldest unsealed period ended more than its
   * grace plus a margin ago (G6: sealing never stops silently).
   */
  watchSealingLag(logGroups: readonly logs.ILogGroup[]): cloudwatch.Alarm {
    const metrics = logGroups.map((group, i) =>
      group
        .addMetricFilter(`SealingLagFilter${i}`, {
          filterPattern: logs.FilterPattern.literal(`"${SEALING_LAG_LOG_PHRASE}"`),
          metricNamespace: METRIC_NAMESPACE,
          metricName: 'SealingLag',
          metricValue: '1',
          defaultValue: 0,
        })
        .metric({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(1) }),
    );
    // Every filter publishes to the same metric (same namespace and name, no dimensions): one alarm watches all.
    return this.addAlarm('SealingLag', {
      alarmDescription:
        'A period is not sealed within its grace plus a margin (G3, G6). See GET /v1/alarms and the heartbeat logs.',
      metric: metrics[0]!,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** Fires on the first alarm (tamper, foreign row, exclusion, refused head, lag) a sealing function logs. */
  watchTamperAlarms(logGroup: logs.ILogGroup): cloudwatch.Alarm {
    const filter = logGroup.addMetricFilter('TamperAlarmFilter', {
      filterPattern: logs.FilterPattern.literal(`"${TAMPER_ALARM_LOG_PHRASE}"`),
      metricNamespace: METRIC_NAMESPACE,
      metricName: 'TamperAlarms',
      metricValue: '1',
      defaultValue: 0,
    });
    return this.addAlarm('TamperAlarm', {
      alarmDescription: 'A ledger item was changed or removed (G5). See GET /v1/alarms and the sealer logs.',
      metric: filter.metric({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(1) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}

function kebab(id: string): string {
  return id.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}
