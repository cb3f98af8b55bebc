/**
 * The short "try it" text `npm start` prints: post an event, find the digests, verify them offline.
 * It never prints a secret: commands read the credentials from `local.json` when they run.
 */

import { isAbsolute, join, relative } from 'node:path';
import type { LocalStackFile } from './local-stack-file.ts';

/** The text, with this run's endpoint, `local.json` and key file filled in. */
export function tryItText(info: LocalStackFile, dataDir: string): string {
  const shown = (path: string) => relative(process.cwd(), path) || '.';
  const localFile = shown(join(dataDir, 'local.json'));
  // require() takes a path only when it starts with /, ./ or ../ (`.auditseal/…` would be a package name).
  const requirable = isAbsolute(localFile) || /^\.\.?\//.test(localFile) ? localFile : `./${localFile}`;
  const writerCredentials = `node -p 'const w = require(${JSON.stringify(requirable)}).roles.writer; w.accessKeyId + ":" + w.secretAccessKey'`;
  const keyFile = shown(join(dataDir, 'keys', `${info.signingKeyId}.pem`));
  const event = JSON.stringify({
    events: [
      {
        id: 'try-1',
        eventTime: '<now, e.g. 2025-01-01T12:00:00Z>',
        actor: { id: 'alice', type: 'user' },
        action: 'ssh.login',
        resource: { id: 'i-0abc', type: 'AWS::EC2::Instance' },
        outcome: { result: 'success' },
      },
    ],
  });
  return [
    'Try it:',
    `  1. Post an event (SigV4 with the writer role's key from ${localFile}; curl signs it itself):`,
    `     curl --aws-sigv4 "aws:amz:${info.region}:execute-api" --user "$(${writerCredentials})" \\`,
    `       -H 'content-type: application/json' -d '${event.replace('<now, e.g. 2025-01-01T12:00:00Z>', '\'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"\'')}' \\`,
    `       ${info.endpoint}/v1/events`,
    '     (or replay real CloudTrail records through EventBridge → SQS → the forwarder:',
    '      npx auditseal local replay-cloudtrail examples/cloudtrail-sample.jsonl)',
    `  2. Each ${info.periodSeconds} s period is sealed into a signed digest in the bucket ${info.bucket}, under`,
    `     digests/${info.ledger}/…, about 15 s after it ends. Download them (auditor role, from ${localFile}):`,
    `     npx auditseal download --from "$(date -u -d '-1 hour' +%FT%TZ)" --to "$(date -u +%FT%TZ)" --out ./audit`,
    '  3. Verify offline, trusting only the public key:',
    `     npx auditseal verify ./audit --key ${keyFile}`,
    '  4. Tamper alarms (auditor): any change to a ledger item in DynamoDB shows up at GET /v1/alarms.',
    '  5. Sigma detections run on every event as it lands; after the replay above, list the alerts (reader role):',
    '     npx auditseal alerts        (Kubernetes: npx auditseal local replay-cloudwatch-logs examples/kubernetes-audit-sample.jsonl)',
  ].join('\n');
}
