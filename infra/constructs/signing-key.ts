/**
 * The asymmetric signing key (ECC_NIST_P256, SIGN_VERIFY), built from the shared definition.
 *
 * Its key policy does not hand `kms:Sign` to the account: only the service's signing functions are named
 * in it. An administrator can still manage the key (and read its public key), but signing a forged
 * statement would first need a `PutKeyPolicy`, which CloudTrail records and the forwarder puts in the ledger.
 * `kms:CreateGrant` is withheld for the same reason.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { signingKeyProps } from '../resources/cdk-props.ts';
import type { SigningKeyDefinition } from '../resources/definitions.ts';
import { administeredKeyPolicy } from './key-policy.ts';

export const SIGN_ACTIONS = ['kms:Sign', 'kms:GetPublicKey'] as const;
export const PUBLIC_KEY_ACTIONS = ['kms:GetPublicKey'] as const;

export interface SigningKeyProps {
  readonly definition: SigningKeyDefinition;
}

/** The KMS key that signs batch and digest statements. */
export class SigningKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: SigningKeyProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      ...signingKeyProps(props.definition),
      // Replaces CDK's default policy (which gives the account `kms:*`).
      policy: administeredKeyPolicy(),
    });
  }

  get keyArn(): string {
    return this.key.keyArn;
  }

  /** Lets the grantee sign (and fetch the public key to check its own signatures); named in the key policy. */
  grantSign(grantee: iam.IGrantable): iam.Grant {
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [grantee.grantPrincipal],
        actions: [...SIGN_ACTIONS],
        resources: ['*'],
      }),
    );
    return iam.Grant.addToPrincipal({ grantee, actions: [...SIGN_ACTIONS], resourceArns: [this.key.keyArn] });
  }

  /** Lets the grantee read the public key (the key policy delegates `kms:Get*` to the account's IAM policies). */
  grantPublicKey(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...PUBLIC_KEY_ACTIONS],
      resourceArns: [this.key.keyArn],
    });
  }
}
