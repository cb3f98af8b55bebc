/**
 * An inclusion proof checked one step at a time, for showing (RFC 9162 §2.1.3.2): each step says which
 * side the sibling hash is on and what the hash so far becomes. The result must equal what the core's
 * `rootFromInclusionProof` computes; the page shows both.
 * https://www.rfc-editor.org/rfc/rfc9162#section-2.1.3.2
 */
import { hashChildren } from '../shared/merkle/rfc6962.ts';

export interface PathStep {
  readonly sibling: string;
  /** Where the sibling sits: `left` means HASH(0x01 || sibling || running). */
  readonly side: 'left' | 'right';
  readonly result: string;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function inclusionSteps(
  index: number,
  size: number,
  leafHash: Uint8Array,
  path: readonly Uint8Array[],
): { steps: PathStep[]; root: string; complete: boolean } {
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leafHash);
  const steps: PathStep[] = [];
  for (const p of path) {
    if (sn === 0) return { steps, root: hex(r), complete: false };
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      steps.push({ sibling: hex(p), side: 'left', result: hex(r) });
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = hashChildren(r, p);
      steps.push({ sibling: hex(p), side: 'right', result: hex(r) });
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return { steps, root: hex(r), complete: sn === 0 };
}
