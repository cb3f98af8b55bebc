#!/usr/bin/env bash
# `npm run smoke:pack`: proves that the package `npm pack` makes works on a machine with no dev
# dependencies. It packs the repository (which runs `prepare`, the build), installs the tarball into an
# empty folder with `npm install --omit=dev`, and there, with nothing from this repository on the path:
#   1. `auditseal --help` prints the usage, and no build tool (tsx, esbuild, typescript) was installed;
#   2. `auditseal seal` seals part of the shipped CloudTrail sample, `auditseal verify` finds it VALID (exit 0),
#      and after one changed byte finds EVENT_MODIFIED (exit 1);
#   3. `auditseal demo` runs;
#   4. `import('auditseal/client')` loads, and a TypeScript file using it type-checks against the
#      installed declarations (with this repository's tsc, strict, skipLibCheck off).
# Exit status 0 when every step passes. The registry must be reachable (dependencies are installed).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/auditseal-pack-XXXXXX")"
trap 'rm -rf "$work"' EXIT
step() { printf '== %s\n' "$*"; }
fail() { printf 'pack-smoke: FAILED: %s\n' "$*" >&2; exit 1; }

step "npm pack (runs prepare: the build)"
tarball="$(cd "$repo" && npm pack --silent --pack-destination "$work" | tail -n 1)"
[ -f "$work/$tarball" ] || fail "npm pack made no tarball"
contents="$(tar -tzf "$work/$tarball")"
for path in package/bin/auditseal.mjs package/dist/cli/auditseal.mjs package/dist/client/index.mjs \
  package/dist/types/client/index.d.ts; do
  grep -qx "$path" <<<"$contents" || fail "$path is not in the tarball"
done

step "npm install --omit=dev $tarball into an empty folder"
app="$work/app"
mkdir -p "$app"
printf '{ "name": "pack-smoke", "private": true, "type": "module" }\n' >"$app/package.json"
(cd "$app" && npm install --omit=dev --prefer-offline --no-audit --no-fund --loglevel=error "$work/$tarball" >/dev/null)
for tool in tsx esbuild typescript vitest; do
  [ ! -e "$app/node_modules/$tool" ] || fail "$tool was installed: it must stay a dev dependency"
done
bin="$app/node_modules/.bin/auditseal"
cd "$app"

step "auditseal --help"
"$bin" --help >help.txt || fail "auditseal --help exited $?"
grep -q '^Usage: auditseal' help.txt || fail "auditseal --help printed no usage"

step "auditseal seal + verify"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out key.pem
openssl pkey -in key.pem -pubout -out public.pem
# Four days of the shipped sample (86 records): sealing all its eleven years takes a while.
grep '"eventTime":"2024-07-3' node_modules/auditseal/examples/cloudtrail-sample.jsonl >events.jsonl
"$bin" seal --in events.jsonl --out sealed --key key.pem --period 1h >seal.txt || fail "auditseal seal exited $?"
"$bin" verify sealed --key public.pem >verify.txt || fail "auditseal verify exited $? on a sealed folder"
grep -q 'VALID' verify.txt || fail "auditseal verify did not say VALID"
archive="$(find sealed/archives -name '[0-9]*.jsonl' | sort | head -n 1)"
sed -i '1s/"action":"/"action":"X/' "$archive"
grep -q '"action":"X' "$archive" || fail "could not tamper with $archive"
set +e
"$bin" verify sealed --key public.pem >tampered.txt
status=$?
set -e
[ "$status" -eq 1 ] || fail "auditseal verify exited $status on a tampered folder (expected 1)"
grep -q 'EVENT_MODIFIED' tampered.txt || fail "auditseal verify did not report EVENT_MODIFIED"

step "auditseal demo"
"$bin" demo --out demo >demo.txt || fail "auditseal demo exited $?"

step "auditseal/client: import and types"
node --input-type=module -e "
  const m = await import('auditseal/client');
  const c = new m.AuditsealClient({ endpoint: 'https://a1.execute-api.eu-west-1.amazonaws.com/prod',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
  if (c.region !== 'eu-west-1') throw new Error('region');
  const check = m.verifyReceipt({}, []);
  if (check.ok || check.code !== 'RECEIPT_MALFORMED') throw new Error('verifyReceipt');
" || fail "import('auditseal/client') failed"
cat >consumer.ts <<'EOF'
import { AuditsealClient, isAuditsealError, type PostEventsResult, type Receipt } from 'auditseal/client';

export async function record(events: Record<string, unknown>[], pem: string): Promise<Receipt[]> {
  const client = new AuditsealClient({ endpoint: 'https://a1.execute-api.eu-west-1.amazonaws.com/prod', trustedKeys: pem });
  try {
    const result: PostEventsResult = await client.postEvents(events, { onBatch: (p) => void p.done });
    return result.receipts;
  } catch (error) {
    if (isAuditsealError(error) && error.kind === 'post') return [...error.receipts];
    throw error;
  }
}
EOF
cat >tsconfig.json <<EOF
{ "compilerOptions": { "strict": true, "noEmit": true, "skipLibCheck": false, "module": "nodenext",
  "moduleResolution": "nodenext", "target": "es2022", "types": ["node"],
  "typeRoots": ["$repo/node_modules/@types"] }, "files": ["consumer.ts"] }
EOF
node "$repo/node_modules/typescript/bin/tsc" -p tsconfig.json || fail "consumer.ts does not type-check against the installed declarations"

step "pack-smoke: OK ($tarball)"
