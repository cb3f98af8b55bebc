/**
 * Starts `moto_server` (KMS, S3 with Object Lock…) on a free 127.0.0.1 port for integration tests.
 * The implementation lives in `local/moto.ts`, shared with the local stack.
 *
 * @example
 * let moto: MotoServer;
 * beforeAll(async () => { moto = await startMoto(); });
 * afterAll(async () => { await moto?.stop(); });
 * const kms = new KMSClient(moto.clientConfig);
 */

export type { MotoServer, StartMotoOptions } from '../../local/moto.ts';
export { startMoto } from '../../local/moto.ts';
