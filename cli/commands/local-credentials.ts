/**
 * `auditseal local credentials ROLE`: prints one role's local access key and secret as `KEY:SECRET`, the
 * form `curl --aws-sigv4 … --user` takes, so that a command can read the secret when it runs instead of
 * the banner printing it: `curl --user "$(npx auditseal local credentials writer)" …`.
 */
import { type Role, readLocalStack } from '../../client/targets.ts';
import { UsageError } from '../errors.ts';

/** The roles of the local stack, in the order `--help` lists them. */
export const LOCAL_ROLES: readonly Role[] = ['writer', 'reader', 'auditor'];

export interface LocalCredentials {
  readonly role: Role;
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Reads the role's keys from the local stack file; exit 2 (UsageError) when there is no such file. */
export async function runLocalCredentials(role: string, localFile: string): Promise<LocalCredentials> {
  if (!(LOCAL_ROLES as readonly string[]).includes(role)) {
    throw new UsageError(`unknown role ${JSON.stringify(role)}: expected one of ${LOCAL_ROLES.join(', ')}`);
  }
  const local = await readLocalStack(localFile);
  if (local === undefined) {
    throw new UsageError(
      `${localFile} not found: start the local stack with \`npm start\` (it writes that file), or pass --local-file`,
    );
  }
  const { accessKeyId, secretAccessKey } = local.roles[role as Role];
  return { role: role as Role, endpoint: local.endpoint, region: local.region, accessKeyId, secretAccessKey };
}

/** `KEY:SECRET`, what `curl --user` takes with `--aws-sigv4`. */
export function renderLocalCredentials(c: LocalCredentials): string {
  return `${c.accessKeyId}:${c.secretAccessKey}`;
}
