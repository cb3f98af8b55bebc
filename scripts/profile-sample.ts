/**
 * Builds `examples/profiles/eventbridge-sample.jsonl`, the EventBridge events the README replays with
 * `auditseal local replay-eventbridge` (AWS Config and CloudTrail as profile sources), from the real
 * samples in `../shared/data` (see its SOURCES.md), and prints each line's provenance.
 *
 * THE ENVELOPES ARE OURS: EventBridge carries an AWS Config notification as the `detail` of a
 * `Config Configuration Item Change` event, and a CloudTrail record as the `detail` of an "AWS API Call
 * via CloudTrail" event; the samples are items, notifications and records, so each is wrapped here.
 * Where a line is changed beyond the wrapping (to make CloudTrail and AWS Config talk about the same
 * bucket), its provenance says exactly what was changed.
 *
 *   node --import tsx scripts/profile-sample.ts   # rewrites the file; run from the repository root
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { wrapInEventBridgeEnvelope } from '../shared/events/cloudtrail.ts';

const DATA = new URL('../../shared/data/', import.meta.url);
const OUT = 'examples/profiles/eventbridge-sample.jsonl';
const PROVENANCE = 'examples/profiles/eventbridge-sample.provenance.jsonl';
const BUCKET = 'mborch-test-bucket-config-item';
/**
 * Our ids for the records used here: their own ids are taken in `examples/cloudtrail-sample.jsonl` (which
 * the README replays first) by other content, which the ledger would refuse as `ID_CONFLICT`.
 */
const POLICY_EVENT_ID = '7f3c2a9e-5b1d-4c8e-9a2f-000000000001';
const EXAMPLE_POLICY_EVENT_ID = '7f3c2a9e-5b1d-4c8e-9a2f-000000000002';
const EXAMPLE_DELETE_EVENT_ID = '7f3c2a9e-5b1d-4c8e-9a2f-000000000003';

type Json = Record<string, unknown>;
const read = (path: string) => readFileSync(new URL(path, DATA), 'utf8');
const lines = (path: string) =>
  read(path)
    .split('\n')
    .filter((l) => l.trim() !== '');

/** The EventBridge event of a Config notification (ours: the envelope members are derived from the item). */
function configEvent(detail: Json, id: number): string {
  const held = detail['configurationItem'] ?? detail['configurationItemSummary'];
  const item = (Array.isArray(held) ? held[0] : held) as Json;
  const time = String(detail['notificationCreationTime'] ?? item['configurationItemCaptureTime']);
  return JSON.stringify({
    version: '0',
    id: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
    'detail-type': 'Config Configuration Item Change',
    source: 'aws.config',
    account: String(item['awsAccountId'] ?? item['accountId']),
    time: `${time.slice(0, 19)}Z`,
    region: String(item['awsRegion']),
    resources: [String(item['ARN'] ?? item['arn'])],
    detail,
  });
}

const out: string[] = [];
const provenance: Json[] = [];
const add = (text: string, origin: Json) => {
  out.push(text);
  provenance.push({ line: out.length, ...origin });
};

// 1. The real S3 bucket item (AWS Config), as a change notification.
const bucketItem = JSON.parse(read('config/configuration-items/AWS_S3_Bucket.json')) as Json;
add(configEvent({ messageType: 'ConfigurationItemChangeNotification', configurationItem: bucketItem }, 1), {
  source: '../shared/data/config/configuration-items/AWS_S3_Bucket.json',
  changed: 'none: the item as it is, in a change notification wrapped in an EventBridge event (ours)',
});

// 2. A real PutBucketPolicy record, pointed at that bucket, half an hour after the item.
const ctLines = lines('cloudtrail/all_permissive.jsonl');
const putPolicy = JSON.parse(ctLines[700]!) as Json;
if (putPolicy['eventID'] !== '1111' || putPolicy['eventName'] !== 'PutBucketPolicy')
  throw new Error('all_permissive.jsonl line 701 is not the PutBucketPolicy record');
const params = putPolicy['requestParameters'] as Json;
const policy = params['bucketPolicy'] as { Statement: Json[] };
params['bucketName'] = BUCKET;
for (const statement of policy.Statement) statement['Resource'] = `arn:aws:s3:::${BUCKET}`;
putPolicy['eventID'] = POLICY_EVENT_ID;
putPolicy['eventTime'] = '2019-02-12T08:00:00Z';
add(wrapInEventBridgeEnvelope(JSON.stringify(putPolicy)), {
  source: '../shared/data/cloudtrail/all_permissive.jsonl line 701 (eventID 1111)',
  changed: `requestParameters.bucketName and the policy's Resource → ${BUCKET}; eventID → ${POLICY_EVENT_ID}; eventTime → 2019-02-12T08:00:00Z`,
});

// 3. The item AWS Config records after that call: the real item with the new policy, naming the call.
const after = structuredClone(bucketItem) as Json;
after['configurationItemCaptureTime'] = '2019-02-12T08:05:00.000Z';
after['configurationStateId'] = 1549958700000;
after['relatedEvents'] = [POLICY_EVENT_ID];
(after['supplementaryConfiguration'] as Json)['BucketPolicy'] = { policyText: JSON.stringify(policy) };
add(configEvent({ messageType: 'ConfigurationItemChangeNotification', configurationItem: after }, 3), {
  source: '../shared/data/config/configuration-items/AWS_S3_Bucket.json',
  changed:
    'modeled on the real item: configurationItemCaptureTime 2019-02-12T08:05:00.000Z, configurationStateId, relatedEvents = the PutBucketPolicy of line 2, supplementaryConfiguration.BucketPolicy.policyText = its policy',
});

// 4. The same item delivered twice (EventBridge delivers at least once).
add(out[0]!, { source: 'line 1 again', changed: 'none: a duplicate delivery' });

// 5-6. A bucket only CloudTrail knows: its real policy change, and the real DeleteBucket pointed at it.
const examplePolicy = JSON.parse(ctLines[700]!) as Json;
examplePolicy['eventID'] = EXAMPLE_POLICY_EVENT_ID;
add(wrapInEventBridgeEnvelope(JSON.stringify(examplePolicy)), {
  source: '../shared/data/cloudtrail/all_permissive.jsonl line 701 (eventID 1111)',
  changed: `eventID → ${EXAMPLE_POLICY_EVENT_ID}`,
});
const deleteBucket = JSON.parse(ctLines[722]!) as { requestParameters: Json; eventName: string } & Json;
if (deleteBucket.eventName !== 'DeleteBucket') throw new Error('line 723 is not the DeleteBucket record');
deleteBucket.requestParameters['bucketName'] = 'example-bucket';
deleteBucket['eventTime'] = '2020-01-01T00:00:00Z';
deleteBucket['eventID'] = EXAMPLE_DELETE_EVENT_ID;
add(wrapInEventBridgeEnvelope(JSON.stringify(deleteBucket)), {
  source: '../shared/data/cloudtrail/all_permissive.jsonl line 723',
  changed: `requestParameters.bucketName → example-bucket; eventTime → 2020-01-01T00:00:00Z; eventID → ${EXAMPLE_DELETE_EVENT_ID}`,
});

// 7-9. The documentation's three change notifications (an EBS volume, an instance, its security group).
for (const [i, line] of lines('config/sns-notifications.jsonl').entries()) {
  const sns = JSON.parse(line) as Json;
  const message = sns['Message'] ?? sns;
  const detail = (typeof message === 'string' ? JSON.parse(message) : message) as Json;
  add(configEvent(detail, 7 + i), {
    source: `../shared/data/config/sns-notifications.jsonl line ${i + 1}`,
    changed: 'none: the SNS message, as the detail of an EventBridge event (ours)',
  });
}

// 10. A real oversized-item EventBridge event: kept as a version whose configuration was not delivered.
add(lines('config/more-samples.jsonl')[3]!, {
  source: '../shared/data/config/more-samples.jsonl line 4 (a real EventBridge event)',
  changed: 'none',
});

writeFileSync(OUT, `${out.join('\n')}\n`);
writeFileSync(PROVENANCE, `${provenance.map((p) => JSON.stringify(p)).join('\n')}\n`);
console.log(`wrote ${out.length} events to ${OUT}, provenance in ${PROVENANCE}`);
