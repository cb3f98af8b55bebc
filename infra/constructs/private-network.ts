/**
 * The network the functions and the private API live in: a VPC with isolated subnets only (no internet
 * gateway, no NAT), flow logs, and the endpoints the functions need (DynamoDB and S3 gateway endpoints,
 * KMS, SNS and EventBridge interface endpoints) plus the `execute-api` endpoint clients call the API through.
 *
 * The gateway endpoints only reach the ledger table and the digest bucket (and, read-only, a detection
 * rules prefix when one is configured): nothing in this VPC can send data to another table or bucket, or
 * change a ledger item through them.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { DigestBucket } from './digest-bucket.ts';
import { LEDGER_APPEND_ACTIONS, LEDGER_READ_ACTIONS, type LedgerTable } from './ledger-table.ts';

export const DEFAULT_VPC_CIDR = '10.0.0.0/16';

export interface PrivateNetworkProps {
  readonly ledger: LedgerTable;
  readonly digests: DigestBucket;
  /** The VPC's address range. Default `DEFAULT_VPC_CIDR`. */
  readonly cidr?: string;
}

/** The isolated VPC and its endpoints. */
export class PrivateNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  /** The interface endpoint of `execute-api`: the only way in to the private API. */
  readonly apiEndpoint: ec2.InterfaceVpcEndpoint;
  /** The security group of the functions: HTTPS out, nothing in. */
  readonly functionSecurityGroup: ec2.SecurityGroup;
  readonly #s3Endpoint: ec2.GatewayVpcEndpoint;

  constructor(scope: Construct, id: string, props: PrivateNetworkProps) {
    super(scope, id);
    const cidr = props.cidr ?? DEFAULT_VPC_CIDR;
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(cidr),
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
          trafficType: ec2.FlowLogTrafficType.ALL,
          maxAggregationInterval: ec2.FlowLogMaxAggregationInterval.ONE_MINUTE,
        },
      },
    });
    const subnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

    const dynamodbEndpoint = this.vpc.addGatewayEndpoint('DynamoDb', {
      service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [subnets],
    });
    dynamodbEndpoint.addToPolicy(
      new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: [...LEDGER_READ_ACTIONS, ...LEDGER_APPEND_ACTIONS],
        // The search indexes are queried under the table's `index/` ARNs.
        resources: [props.ledger.table.tableArn, `${props.ledger.table.tableArn}/index/*`],
      }),
    );
    const s3Endpoint = this.vpc.addGatewayEndpoint('S3', {
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [subnets],
    });
    this.#s3Endpoint = s3Endpoint;
    s3Endpoint.addToPolicy(
      new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject', 's3:PutObject', 's3:ListBucket'],
        resources: [props.digests.bucket.bucketArn, props.digests.bucket.arnForObjects('*')],
      }),
    );

    // HTTPS from inside the VPC only (the range as a literal, so that rules can be checked at synth time).
    const interfaceEndpoint = (endpointId: string, service: ec2.IInterfaceVpcEndpointService) => {
      const endpoint = this.vpc.addInterfaceEndpoint(endpointId, {
        service,
        privateDnsEnabled: true,
        subnets,
        open: false,
      });
      endpoint.connections.allowFrom(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), 'HTTPS from the VPC');
      return endpoint;
    };
    this.apiEndpoint = interfaceEndpoint('ExecuteApi', ec2.InterfaceVpcEndpointAwsService.APIGATEWAY);
    interfaceEndpoint('Kms', ec2.InterfaceVpcEndpointAwsService.KMS);
    interfaceEndpoint('Sns', ec2.InterfaceVpcEndpointAwsService.SNS);
    // The read journal (G7): read functions send, the read recorder's event source mapping polls.
    interfaceEndpoint('Sqs', ec2.InterfaceVpcEndpointAwsService.SQS);
    interfaceEndpoint('Events', ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE);

    this.functionSecurityGroup = new ec2.SecurityGroup(this, 'Functions', {
      vpc: this.vpc,
      description: 'auditseal functions: HTTPS to the VPC endpoints only',
      allowAllOutbound: false,
    });
    // The subnets have no route out of the VPC: HTTPS reaches only the interface endpoints (in the VPC)
    // and the gateway endpoints (whose AWS prefix lists are not known at synth time offline).
    this.functionSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to VPC endpoints');
  }

  /** Lets the S3 gateway endpoint read the objects under `prefix` of `bucket` (list and get only). */
  allowBucketRead(bucket: s3.IBucket, prefix: string): void {
    this.#s3Endpoint.addToPolicy(
      new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects(`${prefix}*`)],
      }),
    );
    this.#s3Endpoint.addToPolicy(
      new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
      }),
    );
  }

  /** Where the functions run. */
  get functionSubnets(): ec2.SubnetSelection {
    return { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  }
}
