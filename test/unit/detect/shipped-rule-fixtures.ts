/**
 * Which real record each shipped Sigma rule must fire on, and which near miss it must stay quiet on,
 * established by reading the rule. Records come from ../shared/data (real detonations in
 * stratus-red-team.jsonl, detection-test fixtures in panther-analysis.jsonl, AWS documentation samples in
 * awsdocs.jsonl, a cloudgoat run in otrf-security-datasets.jsonl, Falco's captured Kubernetes Events).
 *
 * Where no record in the data is a true positive, the case starts from the closest real record and
 * `edits` lists every change (a dotted path set to a value, or removed with `REMOVE`); its reason says
 * so. Nothing else is made up. `name` is the record's eventName (or the Event's verb), checked so that a
 * changed data file fails loudly instead of silently testing another record.
 */

export const REMOVE = Symbol('remove');
export type Edits = Readonly<Record<string, unknown>>;

export interface RecordRef {
  /** Path under ../shared/data. */
  readonly data: string;
  /** 1-based line of a .jsonl file. */
  readonly line?: number;
  readonly name: string;
}

export interface FixtureCase {
  readonly ref: RecordRef;
  readonly edits?: Edits;
  readonly reason: string;
}

export interface RuleFixture {
  /** Rule file under shared/detect/rules/sigma/. */
  readonly rule: string;
  readonly fires: readonly FixtureCase[];
  readonly quiet: readonly FixtureCase[];
}

const ct =
  (file: string) =>
  (line: number, name: string): RecordRef => ({
    data: `cloudtrail/records/${file}.jsonl`,
    line,
    name,
  });
const st = ct('stratus-red-team');
const pa = ct('panther-analysis');
const ad = ct('awsdocs');
const ot = ct('otrf-security-datasets');
const falco = (file: string, verb: string): RecordRef => ({
  data: `kubernetes/falco-trace-files/${file}`,
  name: verb,
});
const a2r = (line: number, verb: string): RecordRef => ({
  data: 'kubernetes/audit2rbac.jsonl',
  line,
  name: verb,
});

const aws = (name: string) => `aws_cloudtrail/${name}.yml`;
const k8s = (name: string) => `kubernetes_audit/kubernetes_audit_${name}.yml`;

export const SHIPPED_RULE_FIXTURES: readonly RuleFixture[] = [
  {
    rule: aws('aws_cloudtrail_bedrock_guardrail_deleted'),
    fires: [{ ref: pa(20, 'DeleteGuardrail'), reason: 'bedrock DeleteGuardrail' }],
    quiet: [{ ref: pa(18, 'ListGuardrails'), reason: 'same service, a read (ListGuardrails)' }],
  },
  {
    rule: aws('aws_cloudtrail_bedrock_guardrail_updated'),
    fires: [{ ref: pa(19, 'UpdateGuardrail'), reason: 'bedrock UpdateGuardrail' }],
    quiet: [{ ref: pa(18, 'ListGuardrails'), reason: 'same service, a read (ListGuardrails)' }],
  },
  {
    rule: aws('aws_cloudtrail_bucket_deleted'),
    fires: [{ ref: ad(183, 'DeleteBucket'), reason: 'DeleteBucket without errorCode (null): it succeeded' }],
    quiet: [
      {
        ref: pa(327, 'DeleteBucket'),
        reason:
          'errorCode is "" in this Panther fixture: neither null nor "Success", which Sigma tells apart',
      },
      {
        ref: ad(183, 'DeleteBucket'),
        edits: { errorCode: 'AccessDenied' },
        reason: 'the same deletion, denied (errorCode set)',
      },
    ],
  },
  {
    rule: aws('aws_cloudtrail_console_login_failed_authentication'),
    fires: [
      { ref: ad(45, 'ConsoleLogin'), reason: 'ConsoleLogin with errorMessage "Failed authentication"' },
    ],
    quiet: [{ ref: st(285, 'ConsoleLogin'), reason: 'a successful ConsoleLogin (no errorMessage)' }],
  },
  {
    rule: aws('aws_cloudtrail_console_login_success_without_mfa'),
    fires: [
      {
        ref: st(285, 'ConsoleLogin'),
        reason: 'real detonation console-login-without-mfa: MFAUsed "No", ConsoleLogin "Success"',
      },
    ],
    quiet: [
      {
        ref: ad(45, 'ConsoleLogin'),
        reason: 'a failed login with MFA (ConsoleLogin "Failure", MFAUsed "Yes")',
      },
      {
        ref: st(285, 'ConsoleLogin'),
        edits: { 'additionalEventData.MFAUsed': 'Yes' },
        reason: 'the same login, with MFA',
      },
    ],
  },
  {
    rule: aws('aws_cloudtrail_disable_logging'),
    fires: [
      { ref: st(118, 'StopLogging'), reason: 'real detonation cloudtrail-stop' },
      { ref: st(116, 'DeleteTrail'), reason: 'real detonation cloudtrail-delete' },
      { ref: ad(60, 'UpdateTrail'), reason: 'UpdateTrail, the third listed eventName' },
    ],
    quiet: [
      {
        ref: st(117, 'PutEventSelectors'),
        reason: "real detonation cloudtrail-event-selectors: PutEventSelectors is not in the rule's list",
      },
    ],
  },
  {
    rule: aws('aws_cloudtrail_guardduty_detector_deleted_or_updated'),
    fires: [
      {
        ref: ad(34, 'CreateThreatIntelSet'),
        edits: {
          eventName: 'DeleteDetector',
          requestParameters: { detectorId: '5ab04b1110c865eecf516eee2435ede7' },
          responseElements: null,
        },
        reason: 'no DeleteDetector in the data: the GuardDuty record of the AWS docs, made a DeleteDetector',
      },
      {
        ref: ad(34, 'CreateThreatIntelSet'),
        edits: {
          eventName: 'UpdateDetector',
          requestParameters: { detectorId: '5ab04b1110c865eecf516eee2435ede7', enable: false },
          responseElements: null,
        },
        reason:
          'no UpdateDetector in the data: the same record as an UpdateDetector with enable false (a boolean)',
      },
    ],
    quiet: [
      {
        ref: ad(34, 'CreateThreatIntelSet'),
        edits: {
          eventName: 'UpdateDetector',
          requestParameters: { detectorId: '5ab04b1110c865eecf516eee2435ede7', enable: true },
        },
        reason: 'an UpdateDetector that enables the detector',
      },
      { ref: ad(34, 'CreateThreatIntelSet'), reason: 'GuardDuty, but CreateThreatIntelSet' },
    ],
  },
  {
    rule: aws('aws_cloudtrail_imds_malicious_usage'),
    fires: [
      {
        ref: ad(105, 'Decrypt'),
        reason:
          'userIdentity.arn is an assumed-role/aws:ec2-infrastructure session, the pattern the rule looks for',
      },
    ],
    quiet: [
      {
        ref: ot(98, 'ListBuckets'),
        reason: 'an instance role session whose role name does not start with "aws:"',
      },
      {
        ref: ad(105, 'Decrypt'),
        edits: { sourceIPAddress: 'AWS Internal' },
        reason: 'the same record from "AWS Internal", which the rule filters out',
      },
    ],
  },
  {
    rule: aws('aws_cloudtrail_new_acl_entries'),
    fires: [{ ref: pa(117, 'CreateNetworkAclEntry'), reason: 'CreateNetworkAclEntry' }],
    quiet: [{ ref: pa(119, 'DescribeNetworkAcls'), reason: 'a read of network ACLs' }],
  },
  {
    rule: aws('aws_cloudtrail_new_route_added'),
    fires: [{ ref: pa(121, 'CreateRoute'), reason: 'CreateRoute' }],
    quiet: [{ ref: pa(122, 'DescribeRouteTables'), reason: 'a read of route tables' }],
  },
  {
    rule: aws('aws_cloudtrail_pua_trufflehog'),
    fires: [{ ref: pa(415, 'GetCallerIdentity'), reason: 'userAgent is exactly "TruffleHog"' }],
    quiet: [
      {
        ref: pa(415, 'GetCallerIdentity'),
        edits: { userAgent: 'TruffleHog/3.63.0' },
        reason: 'the rule compares userAgent whole (no contains): a versioned agent does not match',
      },
    ],
  },
  {
    rule: aws('aws_cloudtrail_region_enabled'),
    fires: [
      {
        ref: pa(38, 'EnableRegion'),
        edits: { eventSource: 'account.amazonaws.com' },
        reason:
          "Panther's EnableRegion fixture names cloudtrail.amazonaws.com; EnableRegion is an account API, so set it",
      },
    ],
    quiet: [
      { ref: pa(38, 'EnableRegion'), reason: 'the fixture as it is: eventSource cloudtrail.amazonaws.com' },
    ],
  },
  {
    rule: aws('aws_cloudtrail_security_group_change_ingress_egress'),
    fires: [
      {
        ref: st(266, 'AuthorizeSecurityGroupIngress'),
        reason: 'real detonation: port 22 opened to the world',
      },
      { ref: pa(104, 'AuthorizeSecurityGroupEgress'), reason: 'AuthorizeSecurityGroupEgress' },
    ],
    quiet: [{ ref: pa(103, 'CreateSecurityGroup'), reason: 'creating a group is not changing its rules' }],
  },
  {
    rule: aws('aws_cloudtrail_security_group_change_loadbalancer'),
    fires: [
      {
        ref: ot(13, 'DescribeLoadBalancers'),
        edits: { eventName: 'SetSecurityGroups', readOnly: false },
        reason:
          'no SetSecurityGroups in the data: a real ELB record of the cloudgoat run, made a SetSecurityGroups',
      },
    ],
    quiet: [{ ref: ot(13, 'DescribeLoadBalancers'), reason: 'the real record: a read' }],
  },
  {
    rule: aws('aws_cloudtrail_security_group_change_rds'),
    fires: [{ ref: pa(280, 'AuthorizeDBSecurityGroupIngress'), reason: 'AuthorizeDBSecurityGroupIngress' }],
    quiet: [{ ref: pa(277, 'CreateDBInstance'), reason: 'RDS, but not a DB security group call' }],
  },
  {
    rule: aws('aws_cloudtrail_ssm_malicious_usage'),
    fires: [{ ref: st(35, 'SendCommand'), reason: 'real detonation: ssm SendCommand, no errorCode' }],
    quiet: [
      { ref: st(56, 'GetCommandInvocation'), reason: "reading a command's result" },
      {
        ref: st(35, 'SendCommand'),
        edits: { errorCode: 'AccessDenied' },
        reason: 'the same SendCommand, denied',
      },
    ],
  },
  {
    rule: aws('aws_cloudtrail_vpc_flow_logs_deleted'),
    fires: [{ ref: st(123, 'DeleteFlowLogs'), reason: 'real detonation vpc-remove-flow-logs' }],
    quiet: [
      {
        ref: st(123, 'DeleteFlowLogs'),
        edits: { errorCode: 'Client.UnauthorizedOperation' },
        reason: 'the same call, unauthorized',
      },
    ],
  },
  {
    rule: aws('aws_config_disable_recording'),
    fires: [
      { ref: pa(63, 'DeleteDeliveryChannel'), reason: 'DeleteDeliveryChannel' },
      { ref: ad(72, 'StopConfigurationRecorder'), reason: 'StopConfigurationRecorder' },
    ],
    quiet: [{ ref: ad(70, 'PutDeliveryChannel'), reason: 'setting a delivery channel up' }],
  },
  {
    rule: aws('aws_console_getsignintoken'),
    fires: [{ ref: pa(68, 'GetSigninToken'), reason: 'GetSigninToken from python-requests' }],
    quiet: [
      {
        ref: pa(69, 'GetSigninToken'),
        reason: 'GetSigninToken from the SSO portal (its Jersey user agent), which the rule filters out',
      },
    ],
  },
  {
    rule: aws('aws_delete_identity'),
    fires: [
      {
        ref: pa(44, 'ListIdentities'),
        edits: { eventName: 'DeleteIdentity', requestParameters: { identity: 'example.com' } },
        reason: "no DeleteIdentity in the data: Panther's SES ListIdentities fixture, made a DeleteIdentity",
      },
    ],
    quiet: [{ ref: pa(44, 'ListIdentities'), reason: 'the real record: a read' }],
  },
  {
    rule: aws('aws_disable_bucket_versioning'),
    fires: [
      {
        ref: pa(366, 'PutBucketVersioning'),
        reason: 'VersioningConfiguration.Status "Suspended" in requestParameters',
      },
    ],
    quiet: [
      {
        ref: pa(357, 'PutBucketVersioning'),
        reason: 'versioning "Enabled" (MFA delete disabled): not suspended',
      },
      {
        ref: pa(361, 'PutBucketVersioning'),
        reason: 'this fixture names ec2.amazonaws.com as the eventSource',
      },
    ],
  },
  {
    rule: aws('aws_ec2_disable_encryption'),
    fires: [{ ref: pa(94, 'DisableEbsEncryptionByDefault'), reason: 'DisableEbsEncryptionByDefault' }],
    quiet: [
      {
        ref: pa(94, 'DisableEbsEncryptionByDefault'),
        edits: { eventName: 'EnableEbsEncryptionByDefault' },
        reason: 'the opposite call',
      },
    ],
  },
  {
    rule: aws('aws_ec2_import_key_pair_activity'),
    fires: [
      {
        ref: ad(56, 'CreateKeyPair'),
        edits: { eventName: 'ImportKeyPair' },
        reason: "no ImportKeyPair in the data: the AWS docs' CreateKeyPair record, made an ImportKeyPair",
      },
    ],
    quiet: [{ ref: ad(56, 'CreateKeyPair'), reason: 'the real record: AWS generated the key' }],
  },
  {
    rule: aws('aws_ec2_startup_script_change'),
    fires: [
      {
        ref: st(151, 'ModifyInstanceAttribute'),
        edits: {
          requestParameters: {
            instanceId: 'i-DDd6c7B0e18F0E35f',
            attribute: 'userData',
            value: '<sensitiveDataRemoved>',
          },
        },
        reason:
          'the real detonation as `--attribute userData` records it: requestParameters.attribute "userData"',
      },
    ],
    quiet: [
      {
        ref: st(151, 'ModifyInstanceAttribute'),
        reason:
          'real detonation with `--user-data`: requestParameters has userData but no attribute, which the rule needs (a gap of the rule)',
      },
    ],
  },
  {
    rule: aws('aws_ec2_vm_export_failure'),
    fires: [
      {
        ref: st(268, 'ModifySnapshotAttribute'),
        edits: {
          eventName: 'CreateInstanceExportTask',
          requestParameters: { instanceId: 'i-0abc', targetEnvironment: 'vmware' },
          responseElements: { exportTask: { state: 'active' } },
        },
        reason:
          'no export task in the data: a real EC2 record made a CreateInstanceExportTask; the rule fires when no error is recorded (its filters drop failures)',
      },
    ],
    quiet: [
      {
        ref: st(268, 'ModifySnapshotAttribute'),
        edits: {
          eventName: 'CreateInstanceExportTask',
          errorCode: 'NotExportable',
          errorMessage: 'not exportable',
        },
        reason: 'the same task, failed',
      },
    ],
  },
  {
    rule: aws('aws_ecs_task_definition_cred_endpoint_query'),
    fires: [
      {
        ref: st(268, 'ModifySnapshotAttribute'),
        edits: {
          eventSource: 'ecs.amazonaws.com',
          eventName: 'RegisterTaskDefinition',
          requestParameters: {
            family: 'x',
            containerDefinitions: [
              {
                name: 'c',
                command: ['sh', '-c', 'curl 169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'],
              },
            ],
          },
          responseElements: null,
        },
        reason:
          'no ECS record in the data: a real record made a RegisterTaskDefinition whose command reads the credentials endpoint',
      },
    ],
    quiet: [
      {
        ref: st(268, 'ModifySnapshotAttribute'),
        edits: {
          eventSource: 'ecs.amazonaws.com',
          eventName: 'RegisterTaskDefinition',
          requestParameters: { family: 'x', containerDefinitions: [{ name: 'c', command: ['nginx'] }] },
        },
        reason: 'the same task definition with an ordinary command',
      },
    ],
  },
  {
    rule: aws('aws_efs_fileshare_modified_or_deleted'),
    fires: [
      {
        ref: st(268, 'ModifySnapshotAttribute'),
        edits: {
          eventSource: 'elasticfilesystem.amazonaws.com',
          eventName: 'DeleteFileSystem',
          requestParameters: { fileSystemId: 'fs-1' },
        },
        reason: 'no EFS record in the data: a real record made an EFS DeleteFileSystem',
      },
    ],
    quiet: [
      {
        ref: st(268, 'ModifySnapshotAttribute'),
        edits: { eventSource: 'elasticfilesystem.amazonaws.com', eventName: 'DescribeFileSystems' },
        reason: 'an EFS read',
      },
    ],
  },
  {
    rule: aws('aws_efs_fileshare_mount_modified_or_deleted'),
    fires: [
      {
        ref: st(268, 'ModifySnapshotAttribute'),
        edits: {
          eventSource: 'elasticfilesystem.amazonaws.com',
          eventName: 'DeleteMountTarget',
          requestParameters: { mountTargetId: 'fsmt-1' },
        },
        reason: 'no EFS record in the data: a real record made an EFS DeleteMountTarget',
      },
    ],
    quiet: [
      {
        ref: st(268, 'ModifySnapshotAttribute'),
        edits: { eventSource: 'elasticfilesystem.amazonaws.com', eventName: 'CreateMountTarget' },
        reason: 'creating a mount target',
      },
    ],
  },
  {
    rule: aws('aws_eks_cluster_created_or_deleted'),
    fires: [
      {
        ref: ad(7, 'CreateCluster'),
        edits: { eventSource: 'eks.amazonaws.com' },
        reason: "no EKS record in the data: the docs' DAX CreateCluster record, attributed to EKS",
      },
    ],
    quiet: [{ ref: ad(7, 'CreateCluster'), reason: 'the real record: CreateCluster of DAX, not EKS' }],
  },
  {
    rule: aws('aws_elasticache_security_group_created'),
    fires: [
      {
        ref: ad(7, 'CreateCluster'),
        edits: { eventSource: 'elasticache.amazonaws.com', eventName: 'CreateCacheSecurityGroup' },
        reason:
          "no ElastiCache record in the data: the docs' DAX record made an ElastiCache CreateCacheSecurityGroup",
      },
    ],
    quiet: [
      {
        ref: ad(7, 'CreateCluster'),
        edits: { eventSource: 'elasticache.amazonaws.com', eventName: 'DescribeCacheSecurityGroups' },
        reason: 'an ElastiCache read',
      },
    ],
  },
  {
    rule: aws('aws_elasticache_security_group_modified_or_deleted'),
    fires: [
      {
        ref: ad(7, 'CreateCluster'),
        edits: { eventSource: 'elasticache.amazonaws.com', eventName: 'AuthorizeCacheSecurityGroupIngress' },
        reason:
          "no ElastiCache record in the data: the docs' DAX record made an AuthorizeCacheSecurityGroupIngress",
      },
    ],
    quiet: [
      {
        ref: ad(7, 'CreateCluster'),
        edits: { eventSource: 'elasticache.amazonaws.com', eventName: 'CreateCacheSecurityGroup' },
        reason: 'creation, which the other ElastiCache rule covers',
      },
    ],
  },
  {
    rule: aws('aws_enum_buckets'),
    fires: [{ ref: ad(36, 'ListBuckets'), reason: 'ListBuckets by an IAM user' }],
    quiet: [
      {
        ref: ot(98, 'ListBuckets'),
        reason: 'real cloudgoat ListBuckets by an assumed role, which the rule filters out',
      },
    ],
  },
  {
    rule: aws('aws_guardduty_disruption'),
    fires: [
      {
        ref: ad(34, 'CreateThreatIntelSet'),
        edits: {
          eventName: 'CreateIPSet',
          responseElements: { ipSetId: '1ab200428351c99d859bf61992460d24' },
        },
        reason:
          "no CreateIPSet in the data: the docs' CreateThreatIntelSet (same request shape), made a CreateIPSet",
      },
    ],
    quiet: [
      {
        ref: ad(34, 'CreateThreatIntelSet'),
        reason: 'the real record: a threat list, not a trusted IP list',
      },
    ],
  },
  {
    rule: aws('aws_iam_backdoor_users_keys'),
    fires: [
      {
        ref: st(294, 'CreateAccessKey'),
        reason: 'real detonation iam-backdoor-user: a key for another user',
      },
      {
        ref: pa(186, 'CreateAccessKey'),
        reason:
          'user1 creates its own key, yet the rule fires: its filter `userIdentity.arn|contains: responseElements.accessKey.userName` is, in Sigma, the literal text "responseElements.accessKey.userName", not a field reference',
      },
    ],
    quiet: [{ ref: pa(324, 'ListAccessKeys'), reason: 'listing keys' }],
  },
  {
    rule: aws('aws_iam_s3browser_loginprofile_creation'),
    fires: [
      {
        ref: st(302, 'CreateLoginProfile'),
        edits: { userAgent: 'S3 Browser 11.5.7 https://s3browser.com' },
        reason: 'real detonation iam-create-user-login-profile, as S3 Browser sends it (userAgent edited)',
      },
    ],
    quiet: [{ ref: st(302, 'CreateLoginProfile'), reason: 'the real detonation: another user agent' }],
  },
  {
    rule: aws('aws_iam_s3browser_templated_s3_bucket_policy_creation'),
    fires: [
      {
        ref: pa(166, 'PutUserPolicy'),
        edits: {
          userAgent: 'S3 Browser 11.5.7 https://s3browser.com',
          'requestParameters.policyDocument':
            '{"Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::<YOUR-BUCKET-NAME>/*"]}]}',
        },
        reason:
          "Panther's PutUserPolicy fixture with S3 Browser's inline policy template, placeholder bucket left in",
      },
    ],
    quiet: [
      {
        ref: pa(166, 'PutUserPolicy'),
        edits: {
          userAgent: 'S3 Browser 11.5.7 https://s3browser.com',
          'requestParameters.policyDocument':
            '{"Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::reports/*"]}]}',
        },
        reason: 'the same template with a real bucket name',
      },
    ],
  },
  {
    rule: aws('aws_iam_s3browser_user_or_accesskey_creation'),
    fires: [
      {
        ref: st(297, 'CreateUser'),
        edits: { userAgent: 'S3 Browser 11.5.7 https://s3browser.com' },
        reason: 'real detonation iam-create-admin-user, as S3 Browser sends it (userAgent edited)',
      },
    ],
    quiet: [{ ref: st(297, 'CreateUser'), reason: 'the real detonation: another user agent' }],
  },
  {
    rule: aws('aws_kms_import_key_material'),
    fires: [{ ref: ad(119, 'ImportKeyMaterial'), reason: 'ImportKeyMaterial' }],
    quiet: [{ ref: ad(118, 'GetParametersForImport'), reason: 'the step before an import' }],
  },
  {
    rule: aws('aws_lambda_function_url'),
    fires: [
      {
        ref: st(303, 'AddPermission20150331v2'),
        edits: { eventName: 'CreateFunctionUrlConfig' },
        reason:
          'no function URL record in the data: a real Lambda call, renamed to the eventName the rule names',
      },
    ],
    quiet: [
      {
        ref: st(303, 'AddPermission20150331v2'),
        reason: 'real detonation lambda-resource-policy: AddPermission',
      },
    ],
  },
  {
    rule: aws('aws_new_lambda_layer_attached'),
    fires: [
      {
        ref: st(304, 'UpdateFunctionConfiguration20150331v2'),
        reason: 'real detonation lambda-layer-extension: requestParameters.layers set',
      },
    ],
    quiet: [
      {
        ref: pa(3, 'UpdateFunctionConfiguration20150331v2'),
        reason: 'layers only in responseElements: the request did not attach one',
      },
    ],
  },
  {
    rule: aws('aws_passed_role_to_glue_development_endpoint'),
    fires: [
      {
        ref: pa(220, 'GetPartition'),
        edits: { eventName: 'CreateDevEndpoint' },
        reason: "no dev endpoint record in the data: Panther's Glue fixture, made a CreateDevEndpoint",
      },
    ],
    quiet: [{ ref: pa(220, 'GetPartition'), reason: 'the real record: a Glue read' }],
  },
  {
    rule: aws('aws_rds_change_master_password'),
    fires: [
      {
        ref: pa(276, 'ModifyDBInstance'),
        reason: 'pendingModifiedValues.masterUserPassword in the response',
      },
    ],
    quiet: [
      {
        ref: pa(243, 'ModifyDBInstance'),
        reason: 'a ModifyDBInstance that changes deletion protection only',
      },
    ],
  },
  {
    rule: aws('aws_rds_dbcluster_actions'),
    fires: [
      { ref: pa(242, 'ModifyDBCluster'), reason: 'ModifyDBCluster' },
      { ref: pa(255, 'DeleteDBCluster'), reason: 'DeleteDBCluster' },
    ],
    quiet: [{ ref: pa(264, 'RebootDBCluster'), reason: 'a reboot' }],
  },
  {
    rule: aws('aws_rds_public_db_restore'),
    fires: [
      {
        ref: pa(279, 'RestoreDBInstanceFromDBSnapshot'),
        reason: 'restored with publiclyAccessible true (a boolean)',
      },
    ],
    quiet: [{ ref: pa(278, 'RestoreDBInstanceFromDBSnapshot'), reason: 'the same restore, not public' }],
  },
  {
    rule: aws('aws_root_account_usage'),
    fires: [{ ref: pa(37, 'ConsoleLogin'), reason: 'the root user signing in' }],
    quiet: [
      { ref: st(285, 'ConsoleLogin'), reason: 'an IAM user signing in' },
      {
        ref: pa(37, 'ConsoleLogin'),
        edits: { eventType: 'AwsServiceEvent' },
        reason: 'a service event on the root identity, which the rule leaves out',
      },
    ],
  },
  {
    rule: aws('aws_route_53_domain_transferred_lock_disabled'),
    fires: [
      {
        ref: st(119, 'DeleteResolverQueryLogConfig'),
        edits: { eventSource: 'route53.amazonaws.com', eventName: 'DisableDomainTransferLock' },
        reason: 'no domain record in the data: a real Route 53 Resolver call, made the call the rule names',
      },
    ],
    quiet: [
      {
        ref: st(119, 'DeleteResolverQueryLogConfig'),
        reason: 'real detonation route53resolver: another service',
      },
    ],
  },
  {
    rule: aws('aws_route_53_domain_transferred_to_another_account'),
    fires: [
      {
        ref: st(119, 'DeleteResolverQueryLogConfig'),
        edits: { eventSource: 'route53.amazonaws.com', eventName: 'TransferDomainToAnotherAwsAccount' },
        reason: 'no domain record in the data: a real Route 53 Resolver call, made the call the rule names',
      },
    ],
    quiet: [
      {
        ref: st(119, 'DeleteResolverQueryLogConfig'),
        edits: {
          eventSource: 'route53.amazonaws.com',
          eventName: 'AcceptDomainTransferFromAnotherAwsAccount',
        },
        reason: 'the receiving side of a transfer',
      },
    ],
  },
  {
    rule: aws('aws_s3_data_management_tampering'),
    fires: [{ ref: pa(353, 'PutBucketLogging'), reason: 'PutBucketLogging' }],
    quiet: [{ ref: pa(49, 'GetBucketLifecycle'), reason: 'a read of a lifecycle configuration' }],
  },
  {
    rule: aws('aws_securityhub_finding_evasion'),
    fires: [
      { ref: pa(398, 'DeleteInsight'), reason: 'DeleteInsight' },
      { ref: pa(399, 'UpdateFindings'), reason: 'UpdateFindings' },
    ],
    quiet: [{ ref: pa(397, 'CreateInsight'), reason: 'creating an insight' }],
  },
  {
    rule: aws('aws_snapshot_backup_exfiltration'),
    fires: [{ ref: st(268, 'ModifySnapshotAttribute'), reason: 'real detonation ec2-share-ebs-snapshot' }],
    quiet: [
      {
        ref: st(267, 'ModifyImageAttribute'),
        reason: 'real detonation ec2-share-ami: an image, not a snapshot',
      },
    ],
  },
  {
    rule: aws('aws_sso_idp_change'),
    fires: [
      {
        ref: pa(89, 'Authenticate'),
        edits: { eventName: 'DisableExternalIdPConfigurationForDirectory' },
        reason:
          "no IdP change in the data: Panther's sso.amazonaws.com fixture, made the call the rule names",
      },
    ],
    quiet: [{ ref: pa(89, 'Authenticate'), reason: 'the real record: a sign-in' }],
  },
  {
    rule: aws('aws_sts_assumerole_misuse'),
    fires: [
      { ref: st(1, 'GetPasswordData'), reason: 'real detonation: a call made with an assumed role session' },
    ],
    quiet: [{ ref: st(285, 'ConsoleLogin'), reason: 'an IAM user, not an assumed role' }],
  },
  {
    rule: aws('aws_sts_getcalleridentity_trufflehog'),
    fires: [{ ref: pa(415, 'GetCallerIdentity'), reason: 'GetCallerIdentity from TruffleHog' }],
    quiet: [{ ref: pa(418, 'AssumeRole'), reason: 'TruffleHog, but another STS call' }],
  },
  {
    rule: aws('aws_sts_getsessiontoken_misuse'),
    fires: [{ ref: pa(419, 'GetSessionToken'), reason: 'GetSessionToken by an IAM user' }],
    quiet: [{ ref: pa(421, 'GetSessionToken'), reason: 'GetSessionToken by an assumed role' }],
  },
  {
    rule: aws('aws_susp_saml_activity'),
    fires: [
      { ref: pa(384, 'UpdateSAMLProvider'), reason: 'UpdateSAMLProvider' },
      { ref: ad(184, 'AssumeRoleWithSAML'), reason: 'AssumeRoleWithSAML' },
    ],
    quiet: [{ ref: pa(381, 'CreateSAMLProvider'), reason: 'creating a provider' }],
  },
  {
    rule: aws('aws_update_login_profile'),
    fires: [{ ref: st(310, 'UpdateLoginProfile'), reason: 'real detonation iam-update-user-login-profile' }],
    quiet: [{ ref: st(302, 'CreateLoginProfile'), reason: 'creating a login profile, not updating one' }],
  },
  {
    rule: k8s('change_admission_controller'),
    fires: [
      {
        ref: falco('create_clusterrolebinding.json', 'create'),
        edits: {
          'objectRef.apiGroup': 'admissionregistration.k8s.io',
          'objectRef.resource': 'validatingwebhookconfigurations',
        },
        reason:
          "no webhook change in the data: Falco's cluster-scoped create, made a ValidatingWebhookConfiguration",
      },
    ],
    quiet: [
      {
        ref: falco('create_clusterrolebinding.json', 'create'),
        edits: {
          verb: 'get',
          'objectRef.apiGroup': 'admissionregistration.k8s.io',
          'objectRef.resource': 'validatingwebhookconfigurations',
        },
        reason: 'reading the webhook configuration',
      },
    ],
  },
  {
    rule: k8s('cronjob_modification'),
    fires: [
      {
        ref: falco('delete_deployment.json', 'delete'),
        edits: {
          'objectRef.apiGroup': 'batch',
          'objectRef.resource': 'cronjobs',
          'objectRef.name': 'backup',
        },
        reason: "no CronJob in the data: Falco's deployment deletion, made a CronJob deletion",
      },
    ],
    quiet: [{ ref: falco('delete_deployment.json', 'delete'), reason: 'a deployment, not a job' }],
  },
  {
    rule: k8s('deployment_deleted'),
    fires: [{ ref: falco('delete_deployment.json', 'delete'), reason: 'deployment deleted' }],
    quiet: [{ ref: falco('create_deployment.json', 'create'), reason: 'deployment created' }],
  },
  {
    rule: k8s('events_deleted'),
    fires: [
      {
        ref: falco('delete_configmap.json', 'delete'),
        edits: { 'objectRef.resource': 'events', 'objectRef.name': 'nginx.1' },
        reason: "no event deletion in the data: Falco's ConfigMap deletion, made an Event deletion",
      },
    ],
    quiet: [{ ref: falco('delete_configmap.json', 'delete'), reason: 'a ConfigMap deleted' }],
  },
  {
    rule: k8s('exec_into_container'),
    fires: [{ ref: falco('exec_pod.json', 'create'), reason: 'create on pods/exec' }],
    quiet: [{ ref: falco('attach_pod.json', 'create'), reason: 'pods/attach, not exec' }],
  },
  {
    rule: k8s('pod_in_system_namespace'),
    fires: [
      {
        ref: falco('create_pod_kube_system_namespace.json', 'create'),
        reason: 'a pod created in kube-system',
      },
    ],
    quiet: [
      {
        ref: falco('create_pod_kube_public_namespace.json', 'create'),
        reason: 'a pod created in kube-public',
      },
    ],
  },
  {
    rule: k8s('rolebinding_modification'),
    fires: [
      {
        ref: falco('attach_cluster_admin_role.json', 'create'),
        reason: 'a ClusterRoleBinding to cluster-admin',
      },
      { ref: falco('create_clusterrolebinding.json', 'create'), reason: 'a ClusterRoleBinding created' },
    ],
    quiet: [{ ref: falco('create_clusterrole.json', 'create'), reason: 'a ClusterRole, not a binding' }],
  },
  {
    rule: k8s('secrets_enumeration'),
    fires: [{ ref: a2r(37, 'list'), reason: 'list secrets (impersonating alice)' }],
    quiet: [{ ref: a2r(1, 'list'), reason: 'list pods' }],
  },
  {
    rule: k8s('secrets_modified_or_deleted'),
    fires: [
      { ref: falco('create_secret.json', 'create'), reason: 'a secret created' },
      { ref: falco('delete_secret.json', 'delete'), reason: 'a secret deleted' },
      {
        ref: falco('create_kube_system_secret.json', 'create'),
        reason: 'a bootstrap token secret created in kube-system',
      },
    ],
    quiet: [{ ref: falco('create_configmap.json', 'create'), reason: 'a ConfigMap created' }],
  },
  {
    rule: k8s('serviceaccount_creation'),
    fires: [{ ref: falco('create_serviceaccount.json', 'create'), reason: 'a ServiceAccount created' }],
    quiet: [{ ref: falco('create_service.json', 'create'), reason: 'a Service created' }],
  },
  {
    rule: k8s('unauthorized_unauthenticated_actions'),
    fires: [{ ref: a2r(1, 'list'), reason: 'answered 403 Forbidden' }],
    quiet: [{ ref: falco('create_secret.json', 'create'), reason: 'answered 201 Created' }],
  },
];

/** The shipped rules auditseal refuses, and why (docs/DETECTIONS.md lists them from the loader itself). */
export const REFUSED_SHIPPED_RULES: Readonly<Record<string, string>> = {
  'aws_cloudtrail/aws_delete_saml_provider.yml': 'UNKNOWN_FIELD',
  'kubernetes_audit/kubernetes_audit_hostpath_mount.yml': 'UNKNOWN_FIELD',
  'kubernetes_audit/kubernetes_audit_potential_enumeration_activity.yml': 'NEVER_MATCHES',
  'kubernetes_audit/kubernetes_audit_privileged_pod_creation.yml': 'UNKNOWN_FIELD',
  'kubernetes_audit/kubernetes_audit_rbac_permisions_listing.yml': 'UNKNOWN_FIELD',
  'kubernetes_audit/kubernetes_audit_sidecar_injection.yml': 'UNKNOWN_FIELD',
};
