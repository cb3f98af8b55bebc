/**
 * Stand-in for the Node built-ins that modules of the verification core import for their Node-only
 * parts (reading a local folder, signing, loading PEM with node:crypto). The page never calls them: each
 * throws if it ever is, so a missing port shows up as an error, never as a silently different result.
 */
function unavailable(name: string): () => never {
  return () => {
    throw new Error(`${name} is not available in the auditor's page`);
  };
}

export const constants = {};
export const sep = '/';
export const createHash = unavailable('node:crypto createHash');
export const createHmac = unavailable('node:crypto createHmac');
export const createPrivateKey = unavailable('node:crypto createPrivateKey');
export const createPublicKey = unavailable('node:crypto createPublicKey');
export const generateKeyPairSync = unavailable('node:crypto generateKeyPairSync');
export const hash = unavailable('node:crypto hash');
export const randomBytes = unavailable('node:crypto randomBytes');
export const sign = unavailable('node:crypto sign');
export const timingSafeEqual = unavailable('node:crypto timingSafeEqual');
export const verify = unavailable('node:crypto verify');
export const lstat = unavailable('node:fs lstat');
export const open = unavailable('node:fs open');
export const readdir = unavailable('node:fs readdir');
export const readFile = unavailable('node:fs readFile');
export const realpath = unavailable('node:fs realpath');
export const join = unavailable('node:path join');
export const relative = unavailable('node:path relative');
export const resolve = unavailable('node:path resolve');
