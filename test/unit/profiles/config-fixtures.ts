/**
 * AWS Config samples from `../shared/data/config/`, wrapped the way EventBridge delivers them.
 *
 * THE WRAPPING IS OURS: the samples are configuration items and SNS notifications. EventBridge carries
 * the same notification as the `detail` of a `Config Configuration Item Change` event
 * (https://docs.aws.amazon.com/config/latest/developerguide/monitor-config-with-cloudwatchevents.html),
 * so `wrapInConfigEvent` builds that envelope around each sample: `detail` is the sample's
 * notification (for a bare item, `{ messageType: 'ConfigurationItemChangeNotification',
 * configurationItem: <item> }`), and the envelope's members are derived from it. The three EventBridge
 * events in `more-samples.jsonl` (lines 2, 3 and 7) are real envelopes and are used as they are.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { sharedDataPath } from '../../support/shared-data.ts';

export const CONFIG_ITEMS_DIR = sharedDataPath('config', 'configuration-items');

/** One file of `configuration-items/`: its parsed JSON, or why it does not parse. */
export interface ConfigItemFile {
  readonly file: string;
  readonly value?: unknown;
  readonly parseError?: string;
}

/** All 70 files, sorted by name. */
export function configItemFiles(): ConfigItemFile[] {
  return readdirSync(CONFIG_ITEMS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const text = readFileSync(`${CONFIG_ITEMS_DIR}/${file}`, 'utf8');
      try {
        return { file, value: JSON.parse(text) as unknown };
      } catch (error) {
        return { file, parseError: (error as Error).message };
      }
    });
}

type Json = Record<string, unknown>;

/**
 * The notification(s) a sample stands for. A bare item becomes a change notification holding it; a
 * notification body (`{configurationItemDiff, configurationItem, …}`) is one already; an array (a
 * history API answer) holds one item per element.
 */
export function notificationsOf(sample: unknown): Json[] {
  if (Array.isArray(sample)) return sample.flatMap((item) => notificationsOf(item));
  const value = sample as Json;
  if ('configurationItem' in value || 'configurationItemSummary' in value) {
    return [{ messageType: 'ConfigurationItemChangeNotification', ...value }];
  }
  return [{ messageType: 'ConfigurationItemChangeNotification', configurationItem: value }];
}

/** The item or summary of a notification. */
export function itemOf(notification: Json): Json {
  const item = notification['configurationItem'] ?? notification['configurationItemSummary'];
  return (Array.isArray(item) ? item[0] : item) as Json;
}

/** The EventBridge envelope AWS would deliver around a notification (see the header: ours). */
export function wrapInConfigEvent(detail: Json, index = 0): Json {
  const item = itemOf(detail);
  const arn = item['ARN'] ?? item['arn'];
  const time = String(
    detail['notificationCreationTime'] ?? item['configurationItemCaptureTime'] ?? '2024-01-01T00:00:00Z',
  );
  return {
    version: '0',
    id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    'detail-type': 'Config Configuration Item Change',
    source: 'aws.config',
    account: String(item['awsAccountId'] ?? item['accountId'] ?? '123456789012'),
    time: /^\d{4}-/.test(time) ? `${time.slice(0, 19)}Z` : '2024-01-01T00:00:00Z',
    region: String(item['awsRegion'] ?? 'us-east-1'),
    resources: typeof arn === 'string' ? [arn] : [],
    detail,
  };
}

/** `wrapInConfigEvent` as the JSON text the forwarder receives. */
export function configEventText(detail: Json, index = 0): string {
  return JSON.stringify(wrapInConfigEvent(detail, index));
}

/** Lines of a shared `.jsonl` file, as text. */
export function textLines(relativePath: string): string[] {
  return readFileSync(sharedDataPath(...relativePath.split('/')), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0);
}

/** Lines of a shared `.jsonl` file, parsed. */
export function jsonLines(relativePath: string): Json[] {
  return readFileSync(sharedDataPath(...relativePath.split('/')), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Json);
}

/**
 * The Config notification inside each line of `more-samples.jsonl`, whatever carries it: an
 * EventBridge event (`detail`), an SNS message (`Message`, object or JSON string), a Lambda SNS event
 * (`Records[0].Sns.Message`), a Config-rule event (`invokingEvent`), or a bare item.
 */
export function notificationInSample(sample: Json): { carrier: string; notification: Json } {
  if (isObject(sample['detail'])) return { carrier: 'eventbridge', notification: sample['detail'] };
  const records = sample['Records'];
  if (Array.isArray(records)) {
    const sns = (records[0] as Json)['Sns'] as Json;
    return { carrier: 'lambda-sns', notification: JSON.parse(String(sns['Message'])) as Json };
  }
  const message = sample['Message'];
  if (message !== undefined) {
    return {
      carrier: 'sns',
      notification: typeof message === 'string' ? (JSON.parse(message) as Json) : (message as Json),
    };
  }
  if (typeof sample['invokingEvent'] === 'string') {
    return { carrier: 'config-rule', notification: JSON.parse(sample['invokingEvent']) as Json };
  }
  if ('messageType' in sample) return { carrier: 'notification', notification: sample };
  return { carrier: 'item', notification: notificationsOf(sample)[0]! };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
