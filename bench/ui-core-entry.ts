/**
 * Entry of `bench/ui-core.mjs`: the page worker's verifier (verifyFolder over picked files, WebCrypto
 * keys), bundled as the page bundles it, to be profiled in Node's V8.
 */
import { loadWebCryptoPublicKeys, type WebCryptoTrustedKey } from '../shared/platform/webcrypto-keys.ts';
import { verifyFolder } from '../shared/verify/verify-folder.ts';
import { type PickedFile, PickedFilesReader } from '../ui/browser-reader.ts';

export async function verifyPicked(
  files: PickedFile[],
  pem: string,
): Promise<{ valid: boolean; findings: number; ms: number }> {
  const map = new Map<string, WebCryptoTrustedKey>();
  for (const k of await loadWebCryptoPublicKeys(pem)) map.set(k.keyId, k);
  const keys = { get: (id: string) => map.get(id), has: (id: string) => map.has(id) };
  const t0 = performance.now();
  const report = await verifyFolder(new PickedFilesReader(files), { keys });
  return { valid: report.valid, findings: report.findings.length, ms: performance.now() - t0 };
}
