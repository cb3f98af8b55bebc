/**
 * The ingest runtime of the local replay commands (`auditseal local replay-*`): the running local stack's
 * description (`.auditseal/local.json`) turned into the same configuration and clients a deployed forwarder
 * builds at cold start (functions/ingest-runtime.ts), pointed at DynamoDB Local and moto.
 */
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { z } from 'zod';
import { type IngestConfig, parseIngestConfig } from '../functions/config.ts';
import { createIngestRuntime } from '../functions/ingest-runtime.ts';
import { LOCAL_GRACE_SECONDS } from '../local/routes.ts';
import { UsageError } from './errors.ts';

const localSchema = z.object({
  region: z.string(),
  accountId: z.string().regex(/^\d{12}$/),
  ledger: z.string(),
  tableName: z.string(),
  kmsKeyId: z.string(),
  periodSeconds: z.number(),
  dynamodbEndpoint: z.url(),
  kmsEndpoint: z.url(),
});

/** What the replay commands read of the local stack file. */
export type LocalIngestFile = z.infer<typeof localSchema>;

/**
 * Reads the local stack file and checks that the stack it describes answers (a TCP connection to DynamoDB
 * Local and to moto); exit 2 (`UsageError`) when there is no running local stack, before anything is
 * delivered, rather than one failed delivery per record.
 */
export async function readLocalIngestFile(localFile = '.auditseal/local.json'): Promise<LocalIngestFile> {
  let local: LocalIngestFile;
  try {
    local = localSchema.parse(JSON.parse(await readFile(localFile, 'utf8')));
  } catch {
    throw new UsageError(
      `no running local stack: ${localFile} is missing or invalid (start it with npm start)`,
    );
  }
  for (const [what, endpoint] of [
    ['DynamoDB Local', local.dynamodbEndpoint],
    ['moto', local.kmsEndpoint],
  ] as const) {
    const problem = await unreachable(endpoint);
    if (problem !== undefined) {
      throw new UsageError(
        `cannot reach the local stack's ${what} at ${endpoint} (${problem}), as ${localFile} describes it: ` +
          'is the local stack running? Start it with `npm start`.',
      );
    }
  }
  return local;
}

/** How long a connection to a local endpoint may take before the stack counts as not running. */
const CONNECT_TIMEOUT_MS = 3_000;

/** Undefined when a TCP connection to the endpoint's host and port opens, else why not (an error code). */
function unreachable(endpoint: string): Promise<string | undefined> {
  const url = new URL(endpoint);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (problem: string | undefined) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => done('timed out'));
    socket.once('connect', () => done(undefined));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}

/** The configuration and clients of a forwarder writing into the local stack. */
export function localIngestRuntime(
  local: LocalIngestFile,
  serviceName: string,
): ReturnType<typeof createIngestRuntime> & { config: IngestConfig } {
  const config = parseIngestConfig({
    AUDITSEAL_TABLE: local.tableName,
    AUDITSEAL_LEDGER: local.ledger,
    AUDITSEAL_KMS_KEY_ID: local.kmsKeyId,
    AUDITSEAL_PERIOD_SECONDS: String(local.periodSeconds),
    // The local sealer's grace (local/routes.ts): the ingest guard must stop writes before it seals.
    AUDITSEAL_GRACE_SECONDS: process.env['AUDITSEAL_GRACE_SECONDS'] ?? String(LOCAL_GRACE_SECONDS),
    AUDITSEAL_DYNAMODB_ENDPOINT: local.dynamodbEndpoint,
    AUDITSEAL_KMS_ENDPOINT: local.kmsEndpoint,
  });
  process.env['AWS_REGION'] ??= local.region;
  process.env['AWS_ACCESS_KEY_ID'] ??= 'local';
  process.env['AWS_SECRET_ACCESS_KEY'] ??= 'local';
  return { ...createIngestRuntime(config, serviceName), config };
}
