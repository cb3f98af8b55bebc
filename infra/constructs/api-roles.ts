/**
 * The three roles of G7. Each is assumable by principals of this account that are allowed
 * `sts:AssumeRole` on it (the trust policy names the account, so IAM policies decide who). What each role
 * may invoke is added by the private API, from the route table: its routes, nothing else.
 */
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { API_ROLES, type ApiRole } from './api-routes.ts';

const DESCRIPTIONS: Record<ApiRole, string> = {
  writer: 'auditseal writer: POST /v1/events and profile writes',
  reader: 'auditseal reader: event and resource queries',
  auditor: 'auditseal auditor: digests, proofs, keys and alarms',
};

export interface ApiRolesProps {
  /** Role names are `<prefix>-writer`, `<prefix>-reader`, `<prefix>-auditor`. */
  readonly namePrefix: string;
}

/** The writer, reader and auditor roles. */
export class ApiRoles extends Construct {
  readonly byName: ReadonlyMap<ApiRole, iam.Role>;

  constructor(scope: Construct, id: string, props: ApiRolesProps) {
    super(scope, id);
    const roles = new Map<ApiRole, iam.Role>();
    for (const name of API_ROLES) {
      roles.set(
        name,
        new iam.Role(this, name[0]!.toUpperCase() + name.slice(1), {
          roleName: `${props.namePrefix}-${name}`,
          description: DESCRIPTIONS[name],
          assumedBy: new iam.AccountRootPrincipal(),
          maxSessionDuration: Duration.hours(1),
        }),
      );
    }
    this.byName = roles;
  }

  role(name: ApiRole): iam.Role {
    return this.byName.get(name)!;
  }
}
