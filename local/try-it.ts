/**
 * The short "try it" text `npm start` prints: post an event, find the digests, verify them offline.
 */

import { join, relative } from 'node:path';
import type { LocalStackFile } from './local-stack-file.ts';

/** The text, with this run's endpoint, writer credentials and key file filled in. */
export function tryItText(info: LocalStackFile, dataDir: string): string {
  const writer = info.roles.writer;
  const shown = (path: string) => relative(process.cwd(), path) || '.';
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
    '  1. Post an event (SigV4 with the writer role; curl signs it itself):',
    `     curl --aws-sigv4 "aws:amz:${info.region}:execute-api" --user "${writer.accessKeyId}:${writer.secretAccessKey}" \\`,
    `       -H 'content-type: application/json' -d '${event.replace('<now, e.g. 2025-01-01T12:00:00Z>', '\'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"\'')}' \\`,
    `       ${info.endpoint}/v1/events`,
    `  2. Each ${info.periodSeconds} s period is sealed into a signed digest in the bucket ${info.bucket}, under`,
    `     digests/${info.ledger}/…; download them (auditor role, read from ${shown(join(dataDir, 'local.json'))}):`,
    `     npx auditseal download --from <start> --to <end> --out ./audit`,
    '  3. Verify offline, trusting only the public key:',
    `     npx auditseal verify ./audit --key ${keyFile}`,
  ].join('\n');
}
