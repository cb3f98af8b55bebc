/**
 * From this many bytes the browser port's `sha256HexOfObject` hands an object to WebCrypto
 * (`crypto.subtle.digest`: native, off the calling thread); below it one call's overhead outweighs the
 * JavaScript hash's time. The Node port always uses node:crypto.
 */
export const SUBTLE_DIGEST_FROM_BYTES = 64 * 1024;
