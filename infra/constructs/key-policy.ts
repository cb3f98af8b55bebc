/**
 * Key policies that let the account administer a key without handing it the key's use. CDK's default
 * policy gives the account `kms:*`, which lets any IAM principal with broad permissions sign or decrypt;
 * here, whoever uses a key is named in its policy by the construct that owns the key.
 */
import * as iam from 'aws-cdk-lib/aws-iam';

/** Management, never use. `kms:CreateGrant` is left out: a grant is another way to hand out use. */
export const KEY_ADMIN_ACTIONS = [
  'kms:CreateAlias',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
] as const;

/** A key policy in which the account administers the key (through IAM) and nobody uses it yet. */
export function administeredKeyPolicy(): iam.PolicyDocument {
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'AccountAdministersTheKey',
        principals: [new iam.AccountRootPrincipal()],
        actions: [...KEY_ADMIN_ACTIONS],
        resources: ['*'],
      }),
    ],
  });
}
