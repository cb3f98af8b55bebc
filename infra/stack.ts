/**
 * The auditseal stack: one construct per concern, composed. The table, bucket and key come from the
 * shared definitions (infra/resources/), the API and the functions from the route table
 * (infra/constructs/api-routes.ts). Deployment and parameters: docs/DEPLOY.md.
 */
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { DEFAULT_SHARDS } from '../functions/config.ts';
import { AlarmTopic } from './constructs/alarm-topic.ts';
import { ApiRoles } from './constructs/api-roles.ts';
import { API_ROUTES, type ApiRoute } from './constructs/api-routes.ts';
import { CursorKey } from './constructs/cursor-key.ts';
import { type DetectionRulesSettings, Detections } from './constructs/detections.ts';
import { DigestBucket } from './constructs/digest-bucket.ts';
import type { LedgerSettings } from './constructs/function-environment.ts';
import { Functions } from './constructs/functions.ts';
import { KubernetesAuditSource } from './constructs/kubernetes-audit-source.ts';
import { LedgerTable } from './constructs/ledger-table.ts';
import { type ApiThrottling, PrivateApi } from './constructs/private-api.ts';
import { PrivateNetwork } from './constructs/private-network.ts';
import { ReadJournal } from './constructs/read-journal.ts';
import { SigningKey } from './constructs/signing-key.ts';
import { resourceDefinitions } from './resources/definitions.ts';

/** What a deployment may choose (docs/DEPLOY.md); everything else is fixed by the design. */
export interface AuditSealParameters {
  /** Ledger id (`a-z 0-9 -`, 1–63). */
  readonly ledger: string;
  readonly periodSeconds: number;
  /** Must exceed every writer's timeout (10 s). */
  readonly graceSeconds: number;
  /** Object Lock default retention; default: the definitions' AWS default (seven years). */
  readonly retentionDays?: number;
  readonly tableName?: string;
  readonly keyAlias?: string;
  /** An e-mail address subscribed to the alarm topic. */
  readonly alarmEmail?: string;
  /** Other VPCs' `execute-api` endpoints allowed to reach the API. */
  readonly clientVpcEndpointIds?: readonly string[];
  readonly vpcCidr?: string;
  readonly throttling?: ApiThrottling;
  /** Operator rules (folder, bucket prefix) and disabled rule ids of the detection function. */
  readonly detectionRules?: DetectionRulesSettings;
  /**
   * CloudWatch Logs groups of Kubernetes audit events to subscribe (EKS control-plane groups
   * `/aws/eks/<name>/cluster`); none by default, and then no Kubernetes forwarder is deployed.
   */
  readonly kubernetesLogGroups?: readonly string[];
}

export interface AuditSealStackProps extends StackProps {
  readonly parameters: AuditSealParameters;
  /** The API's routes; default: the brief's table. */
  readonly routes?: readonly ApiRoute[];
}

/** Ledger table, digest bucket, signing key, alarm topic, private network, functions, private API, roles. */
export class AuditSealStack extends Stack {
  readonly ledger: LedgerTable;
  readonly digests: DigestBucket;
  readonly signingKey: SigningKey;
  readonly alarms: AlarmTopic;
  readonly network: PrivateNetwork;
  readonly functions: Functions;
  readonly detections: Detections;
  /** Present when `kubernetesLogGroups` names at least one group. */
  readonly kubernetes: KubernetesAuditSource | undefined;
  readonly roles: ApiRoles;
  readonly api: PrivateApi;
  readonly readJournal: ReadJournal;
  readonly cursorKey: CursorKey;

  constructor(scope: Construct, id: string, props: AuditSealStackProps) {
    super(scope, id, props);
    const p = props.parameters;
    const routes = props.routes ?? API_ROUTES;
    const names = `auditseal-${p.ledger}`;
    const definitions = resourceDefinitions('aws', {
      ...(p.retentionDays === undefined ? {} : { retentionDays: p.retentionDays }),
      ...(p.tableName === undefined ? {} : { tableName: p.tableName }),
      ...(p.keyAlias === undefined ? {} : { keyAlias: p.keyAlias }),
    });
    const settings: LedgerSettings = {
      ledger: p.ledger,
      periodSeconds: p.periodSeconds,
      graceSeconds: p.graceSeconds,
      // Fixed for the life of a ledger (docs/LEDGER-TABLE.md), so not a parameter.
      shards: DEFAULT_SHARDS,
    };

    this.ledger = new LedgerTable(this, 'Ledger', { definition: definitions.table });
    this.digests = new DigestBucket(this, 'Digests', { definition: definitions.bucket });
    this.signingKey = new SigningKey(this, 'SigningKey', { definition: definitions.signingKey });
    this.alarms = new AlarmTopic(this, 'Alarms', {
      topicName: `${names}-alarms`,
      ...(p.alarmEmail === undefined ? {} : { email: p.alarmEmail }),
    });
    this.readJournal = new ReadJournal(this, 'ReadJournal', { definition: definitions.readQueue });
    this.cursorKey = new CursorKey(this, 'CursorKey');
    this.network = new PrivateNetwork(this, 'Network', {
      ledger: this.ledger,
      digests: this.digests,
      ...(p.vpcCidr === undefined ? {} : { cidr: p.vpcCidr }),
    });
    this.functions = new Functions(this, 'Functions', {
      network: this.network,
      routes,
      streamEventSource: definitions.streamEventSource,
      ledger: this.ledger,
      digests: this.digests,
      signingKey: this.signingKey,
      alarms: this.alarms,
      readJournal: this.readJournal,
      cursorKey: this.cursorKey,
      settings,
    });
    const ledgerResources = {
      ledger: this.ledger,
      digests: this.digests,
      signingKey: this.signingKey,
      alarms: this.alarms,
      readJournal: this.readJournal,
      cursorKey: this.cursorKey,
      settings,
    };
    this.detections = new Detections(this, 'Detections', {
      ...ledgerResources,
      network: this.network,
      streamEventSource: definitions.streamEventSource,
      namePrefix: names,
      ...(p.detectionRules === undefined ? {} : { rules: p.detectionRules }),
    });
    const groups = p.kubernetesLogGroups ?? [];
    this.kubernetes =
      groups.length === 0
        ? undefined
        : new KubernetesAuditSource(this, 'Kubernetes', { ...ledgerResources, network: this.network });
    for (const [i, name] of groups.entries()) {
      this.kubernetes!.subscribe(logs.LogGroup.fromLogGroupName(this, `KubernetesLogGroup${i}`, name));
    }
    this.roles = new ApiRoles(this, 'Roles', { namePrefix: names });
    this.api = new PrivateApi(this, 'Api', {
      network: this.network,
      roles: this.roles,
      routes,
      handlers: this.functions.routeHandlers,
      ...(p.clientVpcEndpointIds === undefined ? {} : { clientVpcEndpointIds: p.clientVpcEndpointIds }),
      ...(p.throttling === undefined ? {} : { throttling: p.throttling }),
    });
    this.alarms.watchSealing(this.functions);
    this.alarms.addAlarm('ReadRecordDeadLetters', {
      alarmDescription:
        'Reads could not be recorded in the ledger after retries (G7): see the read journal DLQ.',
      metric: this.readJournal.deadLetters.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const outputs: Record<string, [string, string]> = {
      ApiUrl: [this.api.url, 'Base URL of the private API (resolves inside the VPC)'],
      ApiVpcEndpointId: [this.network.apiEndpoint.vpcEndpointId, 'The execute-api VPC endpoint'],
      WriterRoleArn: [this.roles.role('writer').roleArn, 'Assume to POST /v1/events'],
      ReaderRoleArn: [this.roles.role('reader').roleArn, 'Assume to query events and resources'],
      AuditorRoleArn: [this.roles.role('auditor').roleArn, 'Assume to read digests, keys and alarms'],
      LedgerTableName: [this.ledger.tableName, 'The ledger table'],
      DigestBucketName: [this.digests.bucketName, 'The Object Lock bucket of digests and archives'],
      SigningKeyArn: [this.signingKey.keyArn, 'The signing key (GET /v1/keys serves its public key)'],
      AlarmTopicArn: [this.alarms.topicArn, 'Tamper and sealing alarms'],
      AlertTopicArn: [this.detections.topicArn, 'Detection alerts (Sigma rule matches)'],
    };
    for (const [outputId, [value, description]] of Object.entries(outputs)) {
      new CfnOutput(this, outputId, { value, description });
    }
  }
}
