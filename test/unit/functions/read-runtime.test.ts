/** The read functions' configuration: the cursor key comes from the environment or from KMS, never both unset. */
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { CURSOR_KEY_MESSAGE, cursorKey, readConfigFromEnv } from '../../../functions/read-runtime.ts';

const BASE = {
  AUDITSEAL_TABLE: 'auditseal-ledger',
  AUDITSEAL_LEDGER: 'main',
  AUDITSEAL_READ_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/auditseal-reads',
};

describe('Function: cursorKey', () => {
  it('uses AUDITSEAL_CURSOR_KEY when set', async () => {
    const key = Buffer.alloc(32, 5).toString('base64');
    const kms = mockClient(KMSClient);
    expect(
      Buffer.from(
        await cursorKey(readConfigFromEnv({ ...BASE, AUDITSEAL_CURSOR_KEY: key }), new KMSClient({})),
      ),
    ).toEqual(Buffer.alloc(32, 5));
    expect(kms.calls()).toHaveLength(0);
    kms.restore();
  });

  it('derives the key from the KMS HMAC key with one GenerateMac over a fixed message', async () => {
    // Prepare
    const kms = mockClient(KMSClient);
    kms.on(GenerateMacCommand).resolves({ Mac: Buffer.alloc(32, 9) });
    const config = readConfigFromEnv({
      ...BASE,
      AUDITSEAL_CURSOR_MAC_KEY_ID: 'arn:aws:kms:us-east-1:1:key/k',
    });
    // Act
    const key = await cursorKey(config, new KMSClient({}));
    // Assess
    expect(Buffer.from(key)).toEqual(Buffer.alloc(32, 9));
    expect(kms.commandCalls(GenerateMacCommand)[0]!.args[0].input).toEqual({
      KeyId: 'arn:aws:kms:us-east-1:1:key/k',
      MacAlgorithm: 'HMAC_SHA_256',
      Message: Buffer.from(CURSOR_KEY_MESSAGE),
    });
    kms.restore();
  });

  describe('when neither is configured', () => {
    it('refuses to start', async () => {
      await expect(cursorKey(readConfigFromEnv(BASE), new KMSClient({}))).rejects.toThrow(
        /AUDITSEAL_CURSOR_KEY/,
      );
    });
  });

  describe('when the configured key is shorter than 256 bits', () => {
    it('is a configuration error naming the variable, not its value', () => {
      expect(() =>
        readConfigFromEnv({ ...BASE, AUDITSEAL_CURSOR_KEY: Buffer.alloc(16).toString('base64') }),
      ).toThrow(/AUDITSEAL_CURSOR_KEY/);
    });
  });
});
