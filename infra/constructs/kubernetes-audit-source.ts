/**
 * Kubernetes audit events as a source (optional): the forwarder function (functions/forward-cloudwatch-logs.ts)
 * and a CloudWatch Logs subscription filter on each log group given to `subscribe`, typically an EKS
 * cluster's control-plane group `/aws/eks/<name>/cluster` (with the `audit` log type enabled on the
 * cluster). Subscriptions invoke the function asynchronously; a payload it refuses, or cannot store after
 * the retries, ends in an SQS on-failure destination with its content, and an alarm fires.
 *
 * @example
 * const k8s = new KubernetesAuditSource(stack, 'Eks', { ...ledgerResources, network });
 * k8s.subscribe(logs.LogGroup.fromLogGroupName(stack, 'ProdAudit', '/aws/eks/prod/cluster'));
 */
import { Duration, Lazy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as logsDestinations from 'aws-cdk-lib/aws-logs-destinations';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { isClusterArn } from '../../shared/events/kubernetes.ts';
import { grantAccess, type LedgerResources } from './function-environment.ts';
import { deadLetterQueue, WRITER_TIMEOUT } from './functions.ts';
import { handlerFunction } from './handler-function.ts';
import type { PrivateNetwork } from './private-network.ts';

export interface KubernetesAuditSourceProps extends LedgerResources {
  readonly network: PrivateNetwork;
}

export interface KubernetesSubscriptionOptions {
  /**
   * The cluster the group's Events come from, for a group that is not an EKS control-plane group (whose
   * cluster follows from its name). Every stream of such a group is taken as audit events.
   */
  readonly clusterArn?: string;
  /** Default: every log event (the forwarder itself keeps only the `kube-apiserver-audit-*` streams). */
  readonly filterPattern?: logs.IFilterPattern;
}

/** The Kubernetes forwarder and its subscriptions. */
export class KubernetesAuditSource extends Construct {
  readonly function: nodejs.NodejsFunction;
  /** Payloads refused or not stored after the retries, kept for inspection and replay. */
  readonly deadLetters: sqs.Queue;
  readonly #clusters: Record<string, string> = {};
  #subscriptions = 0;

  constructor(scope: Construct, id: string, props: KubernetesAuditSourceProps) {
    super(scope, id);
    this.deadLetters = deadLetterQueue(this, 'DeadLetters');
    this.function = handlerFunction(this, 'ForwardCloudWatchLogs', {
      handler: 'forward-cloudwatch-logs',
      description: 'auditseal Kubernetes audit forwarder (CloudWatch Logs subscription → ledger)',
      network: props.network,
      timeout: WRITER_TIMEOUT,
      memorySize: 1024,
    });
    grantAccess(this.function, 'ingest', props);
    this.function.addEnvironment(
      'AUDITSEAL_KUBERNETES_CLUSTERS',
      Lazy.string({ produce: () => JSON.stringify(this.#clusters) }),
    );
    this.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new destinations.SqsDestination(this.deadLetters),
    });
    if (props.settings.graceSeconds <= WRITER_TIMEOUT.toSeconds()) {
      throw new Error(
        `graceSeconds (${props.settings.graceSeconds}) must exceed the forwarder's timeout (${WRITER_TIMEOUT.toSeconds()} s)`,
      );
    }
    props.alarms.addAlarm('KubernetesDeadLetters', {
      alarmDescription:
        'A CloudWatch Logs payload of Kubernetes audit events was refused or could not be stored.',
      metric: this.deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** Adds a subscription filter on `logGroup` that delivers to the forwarder. */
  subscribe(logGroup: logs.ILogGroup, options: KubernetesSubscriptionOptions = {}): logs.SubscriptionFilter {
    if (options.clusterArn !== undefined) {
      if (!isClusterArn(options.clusterArn))
        throw new Error(`${options.clusterArn} is not an EKS cluster ARN`);
      this.#clusters[logGroup.logGroupName] = options.clusterArn;
    }
    return new logs.SubscriptionFilter(this, `Subscription${++this.#subscriptions}`, {
      logGroup,
      destination: new logsDestinations.LambdaDestination(this.function),
      filterPattern: options.filterPattern ?? logs.FilterPattern.allEvents(),
      filterName: 'auditseal-kubernetes-audit',
    });
  }
}
