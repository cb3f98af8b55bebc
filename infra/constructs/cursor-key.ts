/**
 * The search cursor key (docs/API.md "Cursors"): a KMS HMAC key. The search function derives its cursor
 * HMAC key from it once per container (`GenerateMac` over a fixed message, functions/read-runtime.ts), so
 * the key material exists nowhere but in KMS and in the memory of the search function; every container
 * derives the same key, and a cursor issued by one is accepted by another. Replacing this key invalidates
 * every open cursor, which is all a rotation needs.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { administeredKeyPolicy } from './key-policy.ts';

export const CURSOR_KEY_ACTIONS = ['kms:GenerateMac'] as const;

export class CursorKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      description: 'auditseal search cursor key (HMAC)',
      // Cursors are short-lived; a lost key only invalidates open cursors.
      removalPolicy: RemovalPolicy.DESTROY,
      policy: administeredKeyPolicy(),
    });
  }

  get keyArn(): string {
    return this.key.keyArn;
  }

  /** Lets the grantee derive the cursor key; named in the key policy. */
  grantDerive(grantee: iam.IGrantable): iam.Grant {
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [grantee.grantPrincipal],
        actions: [...CURSOR_KEY_ACTIONS],
        resources: ['*'],
      }),
    );
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...CURSOR_KEY_ACTIONS],
      resourceArns: [this.key.keyArn],
    });
  }
}
