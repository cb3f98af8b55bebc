/**
 * The AWS SDK for JavaScript (v3) warns once per process, when the first client is created, that its
 * future releases will need a newer Node.js ("NodeVersionSupportWarning: … please upgrade to node >=22").
 * The local tools run on the Node.js versions this package supports (package.json `engines`), so that
 * notice says nothing actionable and pushes the stack's summary off the screen. It is turned off with the
 * SDK's own switch, which covers that notice and nothing else: every other warning, the SDK's included,
 * still shows.
 */

/** The SDK's switch for its Node.js version notice (`@aws-sdk/core`, `emitWarningIfUnsupportedVersion`). */
export const SDK_NODE_VERSION_WARNING_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/**
 * Turns off the SDK's Node.js version notice for this process (and the processes it starts), unless the
 * user set the switch already. Call it in an entry point, before the first SDK client is created.
 */
export function silenceSdkNodeVersionWarning(env: NodeJS.ProcessEnv = process.env): void {
  env[SDK_NODE_VERSION_WARNING_SWITCH] ??= 'true';
}
