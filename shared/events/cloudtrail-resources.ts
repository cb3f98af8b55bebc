/**
 * Which resource a CloudTrail record is about. CloudTrail lists it in `resources[]` for only some events,
 * so for the rest a table of well-known `requestParameters` names the resource. An ARN is built only
 * where the record holds every part of it; otherwise the identifier is kept as written. The table and
 * its caveats are in docs/EVENTS.md.
 */
import type { AuditEventInput } from './audit-event.ts';
import { isPlainObject } from './json-guard.ts';

export type MappedResource = NonNullable<AuditEventInput['resource']>;

/** The parts of an ARN that a record provides. */
interface ArnContext {
  readonly partition: string;
  readonly region: string | undefined;
  readonly account: string | undefined;
}

interface ResourceRule {
  /** eventSource without `.amazonaws.com`; `*` for any service. */
  readonly service: string;
  /** CloudFormation-style type; when absent it is read from the ARN. */
  readonly type?: string;
  /** The identifier, from `requestParameters`. */
  readonly pick: (params: Record<string, unknown>) => string | undefined;
  /** The ARN built from the identifier, or undefined when the record lacks a part of it. */
  readonly arn?: (id: string, ctx: ArnContext, params: Record<string, unknown>) => string | undefined;
}

/** Reads a non-empty string at a path of member names and array indexes. */
function at(value: unknown, ...path: (string | number)[]): string | undefined {
  let current = value;
  for (const segment of path) {
    if (typeof segment === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[segment];
    } else {
      if (!isPlainObject(current) || !Object.hasOwn(current, segment)) return undefined;
      current = current[segment];
    }
  }
  return typeof current === 'string' && current.length > 0 ? current : undefined;
}

const param =
  (...path: (string | number)[]) =>
  (params: Record<string, unknown>): string | undefined =>
    at(params, ...path);

/** `arn:<partition>:<service>:<region>:<account>:<resource>`; region and account required. */
const regional =
  (service: string, prefix: string) =>
  (id: string, ctx: ArnContext): string | undefined =>
    ctx.region !== undefined && ctx.account !== undefined
      ? `arn:${ctx.partition}:${service}:${ctx.region}:${ctx.account}:${prefix}${id}`
      : undefined;

/** EC2 snapshots and images: regional, and their ARNs have no account. */
const regionalNoAccount =
  (service: string, prefix: string) =>
  (id: string, ctx: ArnContext): string | undefined =>
    ctx.region !== undefined ? `arn:${ctx.partition}:${service}:${ctx.region}::${prefix}${id}` : undefined;

/** IAM: global; the path comes from `requestParameters.path` when given, else the default `/`. */
const iam =
  (kind: string) =>
  (id: string, ctx: ArnContext, params: Record<string, unknown>): string | undefined => {
    if (ctx.account === undefined) return undefined;
    const path = at(params, 'path');
    const prefix = path?.startsWith('/') && path.endsWith('/') ? path : '/';
    return `arn:${ctx.partition}:iam::${ctx.account}:${kind}${prefix}${id}`;
  };

const ec2 = (paramName: string, type: string, kind: string): ResourceRule => ({
  service: 'ec2',
  type,
  pick: param(paramName),
  arn: regional('ec2', `${kind}/`),
});

const arnParam =
  (...path: (string | number)[]) =>
  (params: Record<string, unknown>): string | undefined => {
    const value = at(params, ...path);
    return value?.startsWith('arn:') ? value : undefined;
  };

const KMS_KEY_ID =
  /^(?:mrk-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^mrk-[0-9a-f]{32}$/;

/** Ordered: the first rule of the record's service that finds an identifier wins. */
const RULES: readonly ResourceRule[] = [
  {
    service: 's3',
    type: 'AWS::S3::Object',
    pick: (p) => {
      const bucket = at(p, 'bucketName');
      const key = at(p, 'key');
      return bucket !== undefined && key !== undefined ? `${bucket}/${key}` : undefined;
    },
    arn: (id, ctx) => `arn:${ctx.partition}:s3:::${id}`,
  },
  {
    service: 's3',
    type: 'AWS::S3::Bucket',
    pick: param('bucketName'),
    arn: (id, ctx) => `arn:${ctx.partition}:s3:::${id}`,
  },
  ec2('instanceId', 'AWS::EC2::Instance', 'instance'),
  {
    service: 'ec2',
    type: 'AWS::EC2::Instance',
    pick: param('instancesSet', 'items', 0, 'instanceId'),
    arn: regional('ec2', 'instance/'),
  },
  ec2('volumeId', 'AWS::EC2::Volume', 'volume'),
  {
    service: 'ec2',
    type: 'AWS::EC2::Snapshot',
    pick: param('snapshotId'),
    arn: regionalNoAccount('ec2', 'snapshot/'),
  },
  {
    service: 'ec2',
    type: 'AWS::EC2::Image',
    pick: param('imageId'),
    arn: regionalNoAccount('ec2', 'image/'),
  },
  ec2('groupId', 'AWS::EC2::SecurityGroup', 'security-group'),
  ec2('networkAclId', 'AWS::EC2::NetworkAcl', 'network-acl'),
  ec2('routeTableId', 'AWS::EC2::RouteTable', 'route-table'),
  ec2('internetGatewayId', 'AWS::EC2::InternetGateway', 'internet-gateway'),
  ec2('networkInterfaceId', 'AWS::EC2::NetworkInterface', 'network-interface'),
  ec2('subnetId', 'AWS::EC2::Subnet', 'subnet'),
  ec2('vpcId', 'AWS::EC2::VPC', 'vpc'),
  {
    service: 'ec2-instance-connect',
    type: 'AWS::EC2::Instance',
    pick: param('instanceId'),
    arn: regional('ec2', 'instance/'),
  },
  {
    service: 'ssm',
    type: 'AWS::EC2::Instance',
    pick: param('instanceId'),
    arn: regional('ec2', 'instance/'),
  },
  {
    service: 'ssm',
    type: 'AWS::EC2::Instance',
    pick: (p) => {
      const target = at(p, 'target');
      return target?.startsWith('i-') ? target : undefined;
    },
    arn: regional('ec2', 'instance/'),
  },
  {
    service: 'ssm',
    type: 'AWS::SSM::Document',
    pick: param('documentName'),
    arn: regional('ssm', 'document/'),
  },
  {
    service: 'ssm',
    type: 'AWS::SSM::Parameter',
    pick: param('name'),
    arn: (id, ctx) => regional('ssm', 'parameter/')(id.replace(/^\//, ''), ctx),
  },
  { service: 'iam', type: 'AWS::IAM::Role', pick: param('roleName'), arn: iam('role') },
  { service: 'iam', type: 'AWS::IAM::User', pick: param('userName'), arn: iam('user') },
  { service: 'iam', type: 'AWS::IAM::Group', pick: param('groupName'), arn: iam('group') },
  {
    service: 'iam',
    type: 'AWS::IAM::InstanceProfile',
    pick: param('instanceProfileName'),
    arn: iam('instance-profile'),
  },
  { service: 'iam', type: 'AWS::IAM::ManagedPolicy', pick: param('policyArn') },
  { service: 'sts', type: 'AWS::IAM::Role', pick: param('roleArn') },
  {
    service: 'lambda',
    type: 'AWS::Lambda::Function',
    pick: param('functionName'),
    arn: regional('lambda', 'function:'),
  },
  {
    service: 'rds',
    type: 'AWS::RDS::DBInstance',
    pick: param('dBInstanceIdentifier'),
    arn: regional('rds', 'db:'),
  },
  {
    service: 'rds',
    type: 'AWS::RDS::DBCluster',
    pick: param('dBClusterIdentifier'),
    arn: regional('rds', 'cluster:'),
  },
  {
    service: 'rds',
    type: 'AWS::RDS::DBSnapshot',
    pick: param('dBSnapshotIdentifier'),
    arn: regional('rds', 'snapshot:'),
  },
  // Secret ARNs end in a random suffix that the request does not carry: keep the name or ARN as given.
  { service: 'secretsmanager', type: 'AWS::SecretsManager::Secret', pick: param('secretId') },
  {
    service: 'kms',
    type: 'AWS::KMS::Alias',
    pick: (p) => {
      const keyId = at(p, 'keyId');
      return keyId?.startsWith('alias/') || keyId?.includes(':alias/') ? keyId : undefined;
    },
    arn: regional('kms', ''),
  },
  {
    service: 'kms',
    type: 'AWS::KMS::Key',
    pick: param('keyId'),
    arn: (id, ctx) => (KMS_KEY_ID.test(id) ? regional('kms', 'key/')(id, ctx) : undefined),
  },
  {
    service: 'cloudtrail',
    type: 'AWS::CloudTrail::Trail',
    pick: param('name'),
    arn: regional('cloudtrail', 'trail/'),
  },
  {
    service: 'cloudtrail',
    type: 'AWS::CloudTrail::Trail',
    pick: param('trailName'),
    arn: regional('cloudtrail', 'trail/'),
  },
  {
    service: 'dynamodb',
    type: 'AWS::DynamoDB::Table',
    pick: param('tableName'),
    arn: regional('dynamodb', 'table/'),
  },
  { service: 'sns', type: 'AWS::SNS::Topic', pick: param('topicArn') },
  { service: 'sqs', type: 'AWS::SQS::Queue', pick: param('queueUrl') },
  {
    service: 'logs',
    type: 'AWS::Logs::LogGroup',
    pick: param('logGroupName'),
    arn: regional('logs', 'log-group:'),
  },
  {
    service: 'ecr',
    type: 'AWS::ECR::Repository',
    pick: param('repositoryName'),
    arn: regional('ecr', 'repository/'),
  },
  { service: 'events', type: 'AWS::Events::Rule', pick: param('name'), arn: regional('events', 'rule/') },
  {
    service: 'guardduty',
    type: 'AWS::GuardDuty::Detector',
    pick: param('detectorId'),
    arn: regional('guardduty', 'detector/'),
  },
  {
    service: 'config',
    type: 'AWS::Config::ConfigurationRecorder',
    pick: param('configurationRecorderName'),
  },
  { service: 'config', type: 'AWS::Config::DeliveryChannel', pick: param('deliveryChannelName') },
  { service: 'organizations', type: 'AWS::Organizations::Account', pick: param('accountId') },
  {
    service: 'cloudfront',
    type: 'AWS::CloudFront::Distribution',
    pick: param('id'),
    arn: (id, ctx) =>
      ctx.account !== undefined
        ? `arn:${ctx.partition}:cloudfront::${ctx.account}:distribution/${id}`
        : undefined,
  },
  {
    service: 'elasticloadbalancing',
    type: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
    pick: param('loadBalancerArn'),
  },
  // Tagging and resource-policy APIs of many services name their target by ARN.
  { service: '*', pick: arnParam('resourceArn') },
  { service: '*', pick: arnParam('resourceArns', 0) },
  { service: '*', pick: arnParam('resource') },
];

/** Resource types of ARNs found in `resources[]` entries that name no type. */
const ARN_TYPES: readonly [RegExp, string][] = [
  [/^arn:[^:]+:iam::[^:]*:role\//, 'AWS::IAM::Role'],
  [/^arn:[^:]+:iam::[^:]*:user\//, 'AWS::IAM::User'],
  [/^arn:[^:]+:kms:[^:]*:[^:]*:key\//, 'AWS::KMS::Key'],
  [/^arn:[^:]+:kms:[^:]*:[^:]*:alias\//, 'AWS::KMS::Alias'],
  [/^arn:[^:]+:s3:::[^/]+$/, 'AWS::S3::Bucket'],
  [/^arn:[^:]+:s3:::[^/]+\/./, 'AWS::S3::Object'],
  [/^arn:[^:]+:ec2:[^:]*:[^:]*:instance\//, 'AWS::EC2::Instance'],
  [/^arn:[^:]+:lambda:[^:]*:[^:]*:function:/, 'AWS::Lambda::Function'],
  [/^arn:[^:]+:dynamodb:[^:]*:[^:]*:table\//, 'AWS::DynamoDB::Table'],
  [/^arn:[^:]+:cloudtrail:[^:]*:[^:]*:trail\//, 'AWS::CloudTrail::Trail'],
  [/^arn:[^:]+:cloudfront::[^:]*:distribution\//, 'AWS::CloudFront::Distribution'],
  [/^arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:loadbalancer\//, 'AWS::ElasticLoadBalancingV2::LoadBalancer'],
  [/^arn:[^:]+:apigateway:[^:]*::\/restapis\/[^/]+\/stages\//, 'AWS::ApiGateway::Stage'],
  [/^arn:[^:]+:sns:/, 'AWS::SNS::Topic'],
  [/^arn:[^:]+:ssm:[^:]*:[^:]*:parameter\//, 'AWS::SSM::Parameter'],
  [/^arn:[^:]+:ecr:[^:]*:[^:]*:repository\//, 'AWS::ECR::Repository'],
  [/^arn:[^:]+:rds:[^:]*:[^:]*:db:/, 'AWS::RDS::DBInstance'],
  [/^arn:[^:]+:rds:[^:]*:[^:]*:cluster:/, 'AWS::RDS::DBCluster'],
  [/^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:/, 'AWS::SecretsManager::Secret'],
];

/** The type of the resource an ARN names, or `unknown`. */
function typeFromArn(arn: string): string {
  return ARN_TYPES.find(([pattern]) => pattern.test(arn))?.[1] ?? UNKNOWN_RESOURCE_TYPE;
}

/** Type name used when neither the record nor the ARN says what a resource is. */
export const UNKNOWN_RESOURCE_TYPE = 'unknown';

/** AWS partition of a region name (`cn-north-1` → `aws-cn`). */
export function partitionOf(region: string | undefined): string {
  if (region === undefined) return 'aws';
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  return 'aws';
}

/** The resource a record is about, or undefined when neither `resources[]` nor the table names one. */
export function deriveResource(record: Record<string, unknown>, service: string): MappedResource | undefined {
  const listed = fromResourceList(record['resources']);
  if (listed !== undefined) return listed;
  const params = record['requestParameters'];
  if (!isPlainObject(params)) return undefined;
  const region = at(record, 'awsRegion');
  const ctx: ArnContext = {
    partition: partitionOf(region),
    region,
    account: at(record, 'recipientAccountId') ?? at(record, 'userIdentity', 'accountId'),
  };
  for (const rule of RULES) {
    if (rule.service !== service && rule.service !== '*') continue;
    const id = rule.pick(params);
    if (id === undefined) continue;
    const arn = id.startsWith('arn:') ? id : rule.arn?.(id, ctx, params);
    const type = rule.type ?? typeFromArn(id);
    return arn === undefined || arn === id ? { id, type } : { id: arn, type, name: id };
  }
  return undefined;
}

/** First `resources[]` entry with an ARN. Old records write `arn`; S3 prefix entries (`ARNPrefix`) are skipped. */
function fromResourceList(resources: unknown): MappedResource | undefined {
  if (!Array.isArray(resources)) return undefined;
  for (const entry of resources) {
    const arn = at(entry, 'ARN') ?? at(entry, 'arn');
    if (arn === undefined) continue;
    return { id: arn, type: at(entry, 'type') ?? typeFromArn(arn) };
  }
  return undefined;
}
