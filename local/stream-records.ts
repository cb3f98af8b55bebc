/**
 * DynamoDB Streams records as the Streams API returns them (through the SDK) → records as Lambda's event
 * source mapping delivers them: binary attributes in base64, `ApproximateCreationDateTime` in epoch seconds,
 * `eventSourceARN` added, and `userIdentity` in Lambda's lower-case spelling.
 * Samples: ../shared/data/lambda-events/dynamodb-streams/.
 */

import type { _Record, AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBRecord, StreamRecord } from 'aws-lambda';

/** Where the records come from, as Lambda names it. */
export interface RecordSource {
  /** The stream ARN to put in `eventSourceARN`. */
  readonly eventSourceARN: string;
  readonly awsRegion: string;
}

/** DynamoDB Local names its region `ddblocal` in ARNs and records; AWS would name the real region. */
export function awsStreamArn(localStreamArn: string, region: string): string {
  return localStreamArn.replace(/^arn:aws:dynamodb:ddblocal:/, `arn:aws:dynamodb:${region}:`);
}

/** One record in Lambda's `DynamoDBStreamEvent` shape. */
export function lambdaStreamRecord(record: _Record, source: RecordSource): DynamoDBRecord {
  const stream = record.dynamodb ?? {};
  const dynamodb: StreamRecord = {};
  if (stream.ApproximateCreationDateTime !== undefined) {
    dynamodb.ApproximateCreationDateTime = Math.floor(stream.ApproximateCreationDateTime.getTime() / 1000);
  }
  if (stream.Keys !== undefined) dynamodb.Keys = attributeMap(stream.Keys);
  if (stream.NewImage !== undefined) dynamodb.NewImage = attributeMap(stream.NewImage);
  if (stream.OldImage !== undefined) dynamodb.OldImage = attributeMap(stream.OldImage);
  if (stream.SequenceNumber !== undefined) dynamodb.SequenceNumber = stream.SequenceNumber;
  if (stream.SizeBytes !== undefined) dynamodb.SizeBytes = stream.SizeBytes;
  if (stream.StreamViewType !== undefined) dynamodb.StreamViewType = stream.StreamViewType;
  const converted: DynamoDBRecord = {
    ...(record.eventID === undefined ? {} : { eventID: record.eventID }),
    ...(record.eventName === undefined ? {} : { eventName: record.eventName }),
    ...(record.eventVersion === undefined ? {} : { eventVersion: record.eventVersion }),
    eventSource: 'aws:dynamodb',
    awsRegion: source.awsRegion,
    dynamodb,
    eventSourceARN: source.eventSourceARN,
  };
  if (record.userIdentity !== undefined) {
    // TTL deletes carry { type: 'Service', principalId: 'dynamodb.amazonaws.com' }.
    converted.userIdentity = { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId };
  }
  return converted;
}

function attributeMap(map: Record<string, SdkAttributeValue>): Record<string, AttributeValue> {
  const converted: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(map)) {
    // Attribute names are data: `__proto__` must stay an own property, as JSON.parse would keep it.
    Object.defineProperty(converted, name, {
      value: attributeValue(value),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return converted;
}

function attributeValue(value: SdkAttributeValue): AttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.SS !== undefined) return { SS: [...value.SS] };
  if (value.NS !== undefined) return { NS: [...value.NS] };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.L !== undefined) return { L: value.L.map(attributeValue) };
  if (value.M !== undefined) return { M: attributeMap(value.M) };
  throw new TypeError(`unknown DynamoDB attribute value type: ${Object.keys(value).join(',')}`);
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
