/**
 * The short "try it" text `npm start` prints: post an event, wait for its period to be sealed, download,
 * verify offline. It is the README's quick start with this run's endpoint and files filled in. It never
 * prints a secret: `auditseal local credentials ROLE` reads it from `local.json` when the command runs.
 */

import { join, relative } from 'node:path';
import type { LocalStackFile } from './local-stack-file.ts';
import { localSealingDelaySeconds } from './sealing-schedule.ts';

/** The local stack file the CLI reads when given no `--local-file`. */
const DEFAULT_LOCAL_FILE = join('.auditseal', 'local.json');

/** The text, with this run's endpoint, `local.json`, key file and sealing delay filled in. */
export function tryItText(info: LocalStackFile, dataDir: string, graceSeconds?: number): string {
  const shown = (path: string) => relative(process.cwd(), path) || '.';
  const localFile = shown(join(dataDir, 'local.json'));
  // The CLI finds .auditseal/local.json by itself; another data folder must be named.
  const fileOption = localFile === DEFAULT_LOCAL_FILE ? '' : ` --local-file ${localFile}`;
  const keyFile = shown(join(dataDir, 'keys', 'current.pem'));
  const event = JSON.stringify({
    events: [
      {
        id: 'try-1',
        eventTime: '2026-11-22T21:00:00Z',
        actor: { id: 'alice', type: 'user' },
        action: 'ssh.login',
        outcome: { result: 'success' },
      },
    ],
  });
  const delay =
    graceSeconds === undefined
      ? 'shortly after it ends'
      : `about ${localSealingDelaySeconds(graceSeconds)} s after it ends`;
  return [
    'Try it (the README quick start):',
    `  1. Post an event (curl signs SigV4 itself, with the writer role's key from ${localFile}):`,
    `     curl --aws-sigv4 "aws:amz:${info.region}:execute-api" --user "$(npx auditseal local credentials writer${fileOption})" \\`,
    `       -H 'content-type: application/json' -d '${event}' \\`,
    `       ${info.endpoint}/v1/events`,
    '     (or replay real CloudTrail records through EventBridge → SQS → the forwarder:',
    `      npx auditseal local replay-cloudtrail examples/cloudtrail-sample.jsonl${fileOption})`,
    `  2. Each ${info.periodSeconds} s period is sealed into a signed digest ${delay}; --wait waits for that:`,
    `     npx auditseal download --wait --from "$(date -u -d '-1 hour' +%FT%TZ)" --to "$(date -u +%FT%TZ)" --out ./audit${fileOption}`,
    '  3. Keep the newest signed statement, then verify offline, trusting only the public key:',
    `     npx auditseal head --out ./head.json${fileOption}`,
    `     npx auditseal verify ./audit --key ${keyFile} --head ./head.json`,
    '  4. Tamper alarms (auditor): any change to a ledger item in DynamoDB shows up at GET /v1/alarms.',
    '  5. Sigma detections run on every event as it lands; after the replay above, list the alerts (reader role):',
    `     npx auditseal alerts${fileOption}        (Kubernetes: npx auditseal local replay-cloudwatch-logs examples/kubernetes-audit-sample.jsonl${fileOption})`,
  ].join('\n');
}
