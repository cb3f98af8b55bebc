/**
 * Sigma rule files under an S3 prefix (an operator's own rules, deployed without rebuilding the function):
 * every `.yml`/`.yaml` object under the prefix, in key order, read once at cold start. Same bounds as
 * `readRuleFolder`: at most `MAX_RULE_FILES` files, and an oversized object is read as text the parser
 * refuses, so it is reported like any other bad rule.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { MAX_RULE_FILES } from '../../shared/detect/load-rules.ts';
import { MAX_RULE_FILE_BYTES, type RuleFile } from '../../shared/detect/sigma-rule.ts';

/** Rule files named `s3://<bucket>/<key>`. Throws on S3 errors and beyond `MAX_RULE_FILES` files. */
export async function readRuleBucketPrefix(
  client: S3Client,
  bucket: string,
  prefix: string,
): Promise<RuleFile[]> {
  const objects: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined || !/\.ya?ml$/i.test(object.Key)) continue;
      objects.push({ key: object.Key, size: object.Size ?? 0 });
      if (objects.length > MAX_RULE_FILES) {
        throw new RangeError(`more than ${MAX_RULE_FILES} rule files under s3://${bucket}/${prefix}`);
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const files: RuleFile[] = [];
  for (const { key, size } of objects) {
    const name = `s3://${bucket}/${key}`;
    if (size > MAX_RULE_FILE_BYTES) {
      files.push({ name, text: 'x'.repeat(MAX_RULE_FILE_BYTES + 1) });
      continue;
    }
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = (await object.Body?.transformToByteArray()) ?? new Uint8Array();
    files.push({ name, text: Buffer.from(bytes).toString('utf8') });
  }
  return files;
}
