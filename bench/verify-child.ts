/**
 * Child process of the benchmark: verifies a sealed folder with the real verifyFolder, and measures the
 * raw SHA-256 floors over the same archive bytes in the same process, interleaved with the verifier so
 * that both see the same machine conditions (page cache, CPU frequency, other load).
 *
 *   node --import tsx bench/verify-child.ts --dir DIR --key PUBLIC.pem [--reps 3] [--jobs N]
 *
 * With --jobs N above 1 each repetition also runs verifyFolder with the CLI's worker pool of N threads
 * (cli/verify-workers.ts, what `auditseal verify --jobs N` uses) and its bundled worker
 * (dist/cli/verify-chunk.worker.mjs), started and closed inside the timed section as the command does, and checks that its report is byte-identical to the one-thread report.
 *
 * Floors, both over the `.jsonl` archive files exactly as written, read the way the verifier reads them
 * (FolderReader.read, one whole file at a time):
 *   - file:      one createHash('sha256') over each whole file;
 *   - per-event: crypto.hash('sha256', line) for each newline-terminated line (newline excluded), with
 *                its default hex output, the cheapest result form Node offers.
 *   - format:    the SHA-256 work the format itself requires of any verifier (docs/FORMAT.md §2 and §8), with
 *                the project's fastest hashing code and nothing else: per event its leaf hash LH = SHA-256(0x00 ‖
 *                line), its share of the chunk tree (MTH over the chunk's leaf hashes), the hash of its id, its
 *                88-byte batch leaf (0x00 ‖ LH ‖ SHA-256(id) ‖ receivedAt) and its share of the batch tree.
 *                The id and the time are slices of the real lengths (read from the chunk's first event), since
 *                a SHA-256 call costs by length only. No parsing, no signature, no I/O beyond the reads. This
 *                is the ceiling any verifier of this format can reach with Node's SHA-256 on this machine.
 *
 * Last stdout line: JSON with every repetition's seconds, the best of each, and the verifier's peak RSS.
 */
import { createHash, hash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ChunkWorkerPool } from '../cli/verify-workers.ts';
import { loadPublicKey, TrustedKeySet } from '../shared/crypto/keys.ts';
import { HASH_SIZE, rootFromPackedLeafHashes } from '../shared/merkle/rfc6962.ts';
import { sha256Into } from '../shared/platform/crypto.ts';
import { FolderReader } from '../shared/verify/object-reader.ts';
import { type VerifyReport, verifyFolder } from '../shared/verify/verify-folder.ts';
import { argValue, peakRssMb, positiveInt, round } from './bench-args.ts';

const NEWLINE = 0x0a;
/** The worker the installed command runs (npm run build); the parent benchmark builds it first. */
const BUNDLED_WORKER = new URL('../dist/cli/verify-chunk.worker.mjs', import.meta.url);

function seconds(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Process CPU time (user + system, all threads) since `from`, in seconds. */
function cpuSeconds(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1e6;
}

/** One SHA-256 stream per archive file. Returns bytes hashed. */
async function fileFloor(
  reader: FolderReader,
  keys: readonly string[],
): Promise<{ bytes: number; sink: number }> {
  let bytes = 0;
  let sink = 0;
  for (const key of keys) {
    const data = (await reader.read(key))!;
    sink ^= createHash('sha256').update(data).digest()[0]!;
    bytes += data.length;
  }
  return { bytes, sink };
}

/** One SHA-256 per event line. Returns bytes read and lines hashed. */
async function perEventFloor(
  reader: FolderReader,
  keys: readonly string[],
): Promise<{ bytes: number; lines: number; sink: number }> {
  let bytes = 0;
  let lines = 0;
  let sink = 0;
  for (const key of keys) {
    const data = (await reader.read(key))!;
    let start = 0;
    for (let nl = data.indexOf(NEWLINE); nl !== -1; nl = data.indexOf(NEWLINE, start)) {
      sink ^= hash('sha256', data.subarray(start, nl)).charCodeAt(0);
      lines++;
      start = nl + 1;
    }
    bytes += data.length;
  }
  return { bytes, lines, sink };
}

/** Byte lengths of the id and the receivedAt of a chunk's first event: what the format floor hashes. */
function idAndTimeLengths(data: Buffer): { id: number; time: number } {
  const nl = data.indexOf(NEWLINE);
  const first = JSON.parse(data.subarray(0, nl === -1 ? data.length : nl).toString('utf8')) as {
    id: string;
    receivedAt: string;
  };
  return { id: Buffer.byteLength(first.id), time: Buffer.byteLength(first.receivedAt) };
}

/** A packed hash buffer twice the size of `packed`, starting with its bytes. */
function doubled(packed: Buffer): Buffer {
  const grown = Buffer.alloc(2 * packed.length);
  packed.copy(grown);
  return grown;
}

/**
 * The hashing the format requires per event (see the header): leaf, chunk tree, id, batch leaf, batch
 * tree. One walk over each file's lines, the same walk as `perEventFloor`; the digests go straight into
 * packed buffers (`sha256Into`), which are reused from file to file and grow as needed.
 */
async function formatFloor(
  reader: FolderReader,
  keys: readonly string[],
): Promise<{ bytes: number; lines: number; sink: number }> {
  let bytes = 0;
  let lines = 0;
  let sink = 0;
  let leafScratch = Buffer.alloc(1 + 64 * 1024);
  const batchLeaf = Buffer.alloc(1 + 2 * HASH_SIZE + 64);
  let leafHashes: Buffer = Buffer.alloc(4096 * HASH_SIZE);
  let batchLeaves: Buffer = Buffer.alloc(4096 * HASH_SIZE);
  for (const key of keys) {
    const data = (await reader.read(key))!;
    const lengths = idAndTimeLengths(data);
    let start = 0;
    let i = 0;
    for (let nl = data.indexOf(NEWLINE); nl !== -1; nl = data.indexOf(NEWLINE, start)) {
      const length = nl - start;
      if (leafScratch.length < 1 + length) leafScratch = Buffer.alloc(1 + length);
      if ((i + 1) * HASH_SIZE > leafHashes.length) {
        leafHashes = doubled(leafHashes);
        batchLeaves = doubled(batchLeaves);
      }
      leafScratch.set(data.subarray(start, nl), 1);
      sha256Into(leafScratch.subarray(0, 1 + length), leafHashes, i * HASH_SIZE);
      leafHashes.copy(batchLeaf, 1, i * HASH_SIZE, (i + 1) * HASH_SIZE);
      sha256Into(data.subarray(start, start + lengths.id), batchLeaf, 1 + HASH_SIZE);
      data.copy(batchLeaf, 1 + 2 * HASH_SIZE, start, start + lengths.time);
      const batchInput = batchLeaf.subarray(0, 1 + 2 * HASH_SIZE + lengths.time);
      sha256Into(batchInput, batchLeaves, i * HASH_SIZE);
      i++;
      start = nl + 1;
    }
    sink ^= rootFromPackedLeafHashes(leafHashes, i)[0]! ^ rootFromPackedLeafHashes(batchLeaves, i)[0]!;
    lines += i;
    bytes += data.length;
  }
  return { bytes, lines, sink };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const dir = argValue(argv, 'dir');
  const keyPath = argValue(argv, 'key');
  const reps = positiveInt(argValue(argv, 'reps') ?? '3', '--reps');
  const jobs = positiveInt(argValue(argv, 'jobs') ?? '1', '--jobs');
  if (!dir || !keyPath) throw new Error('usage: verify-child.ts --dir DIR --key PUBLIC.pem [--reps N]');

  const keys = new TrustedKeySet([loadPublicKey(await readFile(keyPath, 'utf8'))]);
  const reader = new FolderReader(dir);
  // Event chunks only (NNNNNN.jsonl): batch-record files (batches-NNNNNN.jsonl) are not archive bytes.
  const archiveKeys = (await reader.list('archives/')).filter((k) => /\/\d{6}\.jsonl$/.test(k)).sort();
  const baseline = process.memoryUsage().rss / 2 ** 20;

  const verifyS: number[] = [];
  const verifyCpuS: number[] = [];
  const fileS: number[] = [];
  const fileCpuS: number[] = [];
  const perEventS: number[] = [];
  const perEventCpuS: number[] = [];
  const formatS: number[] = [];
  const formatCpuS: number[] = [];
  const jobsS: number[] = [];
  const jobsCpuS: number[] = [];
  let report: VerifyReport | undefined;
  let verifyPeak = 0;
  let floorBytes = 0;
  let floorLines = 0;
  for (let rep = 0; rep < reps; rep++) {
    const cpu0 = process.cpuUsage();
    let t0 = process.hrtime.bigint();
    report = await verifyFolder(reader, { keys });
    verifyS.push(seconds(t0));
    verifyCpuS.push(cpuSeconds(cpu0));
    // The first pass runs before any floor, so this peak is the verifier's own (plus the process baseline).
    if (rep === 0) verifyPeak = peakRssMb();
    if (!report.valid) break;

    if (jobs > 1) {
      const c0 = process.cpuUsage();
      const t1 = process.hrtime.bigint();
      const pool = new ChunkWorkerPool(jobs, { worker: BUNDLED_WORKER, takeBuffers: true });
      let parallel: VerifyReport;
      try {
        parallel = await verifyFolder(reader, { keys, chunks: pool });
      } finally {
        await pool.close();
      }
      jobsS.push(seconds(t1));
      jobsCpuS.push(cpuSeconds(c0));
      if (JSON.stringify(parallel) !== JSON.stringify(report)) {
        throw new Error(`the report with ${jobs} worker threads differs from the one-thread report`);
      }
    }

    let c0 = process.cpuUsage();
    t0 = process.hrtime.bigint();
    const file = await fileFloor(reader, archiveKeys);
    fileS.push(seconds(t0));
    fileCpuS.push(cpuSeconds(c0));

    c0 = process.cpuUsage();
    t0 = process.hrtime.bigint();
    const perEvent = await perEventFloor(reader, archiveKeys);
    perEventS.push(seconds(t0));
    perEventCpuS.push(cpuSeconds(c0));
    c0 = process.cpuUsage();
    t0 = process.hrtime.bigint();
    const format = await formatFloor(reader, archiveKeys);
    formatS.push(seconds(t0));
    formatCpuS.push(cpuSeconds(c0));
    if (format.lines !== perEvent.lines)
      throw new Error('the format floor and the per-event floor saw different lines');
    floorBytes = file.bytes;
    floorLines = perEvent.lines;
    if (perEvent.bytes !== file.bytes) throw new Error('floors read different byte counts');
    process.stderr.write(
      `  rep ${rep + 1}/${reps}: verify ${verifyS[rep]!.toFixed(2)} s, ` +
        (jobs > 1 ? `verify --jobs ${jobs} ${jobsS[rep]!.toFixed(2)} s, ` : '') +
        `sha256 file ${fileS[rep]!.toFixed(2)} s, sha256 per event ${perEventS[rep]!.toFixed(2)} s, ` +
        `format's hashing ${formatS[rep]!.toFixed(2)} s\n`,
    );
  }

  const result = {
    valid: report?.valid ?? false,
    findings: report?.findings.slice(0, 5) ?? [],
    stats: report?.stats,
    archive_files: archiveKeys.length,
    floor_bytes: floorBytes,
    floor_lines: floorLines,
    baseline_rss_mb: round(baseline, 1),
    verify_peak_rss_mb: round(verifyPeak, 1),
    verify_s: verifyS.map((s) => round(s, 3)),
    verify_cpu_s: verifyCpuS.map((s) => round(s, 3)),
    jobs,
    verify_jobs_s: jobsS.map((s) => round(s, 3)),
    verify_jobs_cpu_s: jobsCpuS.map((s) => round(s, 3)),
    sha256_file_s: fileS.map((s) => round(s, 3)),
    sha256_file_cpu_s: fileCpuS.map((s) => round(s, 3)),
    sha256_per_event_s: perEventS.map((s) => round(s, 3)),
    sha256_per_event_cpu_s: perEventCpuS.map((s) => round(s, 3)),
    sha256_format_s: formatS.map((s) => round(s, 3)),
    sha256_format_cpu_s: formatCpuS.map((s) => round(s, 3)),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
