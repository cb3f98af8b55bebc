/**
 * The AWS SDK's notice about future Node.js versions is silenced on purpose, and nothing else is: each case
 * runs in a fresh Node.js process (the SDK emits its notice once per process, when the first client is
 * created), which also emits a warning of its own.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SDK_NODE_VERSION_WARNING_SWITCH } from '../../../local/sdk-warnings.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** Node.js majors below this get the SDK's notice (`@aws-sdk/core`, emitWarningIfUnsupportedVersion). */
const SDK_NOTICE_BELOW_MAJOR = 22;
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/** Runs a small program in a fresh process; resolves with its standard error. */
async function stderrOf(silence: boolean, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const program = [
    "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
    "import { silenceSdkNodeVersionWarning } from './local/sdk-warnings.ts';",
    silence ? 'silenceSdkNodeVersionWarning();' : '',
    "new DynamoDBClient({ region: 'us-east-1' }).destroy();",
    "process.emitWarning('auditseal other warning');",
  ].join('\n');
  const cleanEnv = { ...process.env, ...env };
  if (!(SDK_NODE_VERSION_WARNING_SWITCH in env)) delete cleanEnv[SDK_NODE_VERSION_WARNING_SWITCH];
  const { stderr } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', program],
    { cwd: ROOT, env: cleanEnv },
  );
  return stderr;
}

describe('Function: silenceSdkNodeVersionWarning', () => {
  describe('when called before the first SDK client is created', () => {
    it("hides the SDK's Node.js version notice and still shows every other warning", async () => {
      // Act
      const stderr = await stderrOf(true);

      // Assess
      expect(stderr).toContain('auditseal other warning');
      expect(stderr).not.toContain('NodeVersionSupportWarning');
    });
  });

  describe('when it is not called', () => {
    it.skipIf(NODE_MAJOR >= SDK_NOTICE_BELOW_MAJOR)(
      `lets the SDK print its notice on Node.js < ${SDK_NOTICE_BELOW_MAJOR} (the control case)`,
      async () => {
        // Act
        const stderr = await stderrOf(false);

        // Assess
        expect(stderr).toContain('NodeVersionSupportWarning');
        expect(stderr).toContain('auditseal other warning');
      },
    );
  });

  describe('when the user set the switch to something else already', () => {
    it.skipIf(NODE_MAJOR >= SDK_NOTICE_BELOW_MAJOR)('leaves the choice to the user', async () => {
      // Act
      const stderr = await stderrOf(true, { [SDK_NODE_VERSION_WARNING_SWITCH]: 'false' });

      // Assess
      expect(stderr).toContain('NodeVersionSupportWarning');
    });
  });
});
