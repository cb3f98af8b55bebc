/**
 * `npm run bench:verify`: sealing, verifying, the raw SHA-256 floor and the Merkle peer, in one run.
 *
 *   npm run bench:verify [-- --events N] [--reps R] [--jobs J] [--merkle-reps M] [--proofs P] [--our-proofs K] [--keep]
 *                        [--tamper]   (self-test: corrupts one event first; the run must exit 1)
 *   BENCH_EVENTS=N npm run bench:verify
 *
 * 1. Seals N synthetic ~1 KiB events (default 1,000,000) as one period with the real sealPeriod,
 *    FolderObjectStore and KeyFileSigner, in a child process whose peak RSS is read at its end; a second
 *    child seals 100k events (N/10 when N < 1M) to show memory does not grow with N.
 * 2. Verifies the folder with the real verifyFolder (in a child, for its own peak RSS) and fails the run
 *    unless the report is valid.
 * 3. In that same child, interleaved with the verifier, hashes the same archive files with raw SHA-256
 *    (whole file, and one hash per event line), and runs the verifier again with J worker threads
 *    (default: the cores, what `auditseal verify` uses). Best of R (default 5) repetitions each.
 * 4. Compares our Merkle root and inclusion proofs with merkletreejs configured for RFC 6962.
 *
 * The last stdout line is one JSON object with every figure. docs/BENCHMARKS.md explains each one.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalBytes } from '../shared/canonical/jcs.ts';
import { parseAuditEvent } from '../shared/events/audit-event.ts';
import { FolderReader } from '../shared/verify/object-reader.ts';
import { argValue, positiveInt, round, runChild } from './bench-args.ts';
import { checkConfiguration, compareMerkle } from './merkle-vs-merkletreejs.ts';
import { BENCH_PERIOD, SyntheticEvents } from './synthetic-events.ts';

const MiB = 2 ** 20;
const GOALS = {
  verify_vs_sha256_file: 0.5,
  verify_jobs_vs_sha256_file: 0.9,
  merkle_proof_speedup_per_proof_built_tree: 3,
  merkle_root_speedup: 3,
  merkle_proof_speedup: 3,
  seal_peak_rss_mb: 256,
} as const;

interface SealChild {
  events: number;
  bytes: number;
  archive_bytes: number;
  seal_s: number;
  generate_s: number;
  cpu_s: number;
  baseline_rss_mb: number;
  peak_rss_mb: number;
  root: string;
}

interface VerifyChild {
  valid: boolean;
  findings: unknown[];
  stats: { events: number; bytes: number; archives: number };
  floor_bytes: number;
  floor_lines: number;
  baseline_rss_mb: number;
  verify_peak_rss_mb: number;
  verify_s: number[];
  verify_cpu_s: number[];
  jobs: number;
  verify_jobs_s: number[];
  verify_jobs_cpu_s: number[];
  sha256_file_s: number[];
  sha256_file_cpu_s: number[];
  sha256_per_event_s: number[];
  sha256_per_event_cpu_s: number[];
  sha256_format_s: number[];
  sha256_format_cpu_s: number[];
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function loads(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/** The fast path of the generator must produce exactly canonicalBytes of a schema-valid event. */
function checkGenerator(count: number): void {
  const source = new SyntheticEvents(count, BENCH_PERIOD);
  const sample = new Set(
    [0, 1, 2, 4095, 4096, Math.floor(count / 2), count - 1].filter((i) => i >= 0 && i < count),
  );
  for (const i of sample) {
    const event = parseAuditEvent(source.eventObject(i));
    const fast = source.event(i);
    if (!Buffer.from(canonicalBytes(event)).equals(fast.bytes) || fast.id !== event.id) {
      throw new Error(`synthetic event ${i}: fast bytes differ from canonicalBytes`);
    }
  }
}

/** Flips one bit inside the first event of the first archive chunk (never a newline). */
async function flipOneByte(folder: string): Promise<void> {
  const reader = new FolderReader(folder);
  const first = (await reader.list('archives/')).filter((k) => k.endsWith('.jsonl')).sort()[0]!;
  const path = join(folder, first);
  const data = await readFile(path);
  data[10] = data[10]! ^ 0x01;
  await writeFile(path, data);
  log(`tampered with ${first} (byte 10) to exercise the failure path`);
}

function best(values: readonly number[]): number {
  return Math.min(...values);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const events = positiveInt(argValue(argv, 'events') ?? process.env['BENCH_EVENTS'] ?? '1000000', 'events');
  const small = Math.min(100_000, Math.max(1, Math.floor(events / 10)));
  const reps = positiveInt(argValue(argv, 'reps') ?? '5', '--reps');
  const jobs = positiveInt(argValue(argv, 'jobs') ?? String(availableParallelism()), '--jobs');
  const merkleReps = positiveInt(argValue(argv, 'merkle-reps') ?? '15', '--merkle-reps');
  const proofs = positiveInt(argValue(argv, 'proofs') ?? '1000', '--proofs');
  const oursProofs = positiveInt(argValue(argv, 'our-proofs') ?? '1000', '--our-proofs');
  const merkleLeaves = positiveInt(
    argValue(argv, 'merkle-leaves') ?? String(2 ** 16 + 12_345),
    '--merkle-leaves',
  );
  const keep = argv.includes('--keep');
  // Self-test of the failure path: flip one byte of a sealed event before verifying; the run must exit 1.
  const tamper = argv.includes('--tamper');
  const cpu = cpus()[0]?.model ?? 'unknown';

  const loadStart = loads();
  log(
    `auditseal verify benchmark: node ${process.version}, ${cpus().length} CPUs (${cpu}), load ${loadStart}`,
  );
  checkGenerator(events);
  const config = checkConfiguration(300);
  log(
    `merkletreejs RFC 6962 configuration: roots equal for sizes 1..${config.sizes}, ${config.proofs} audit paths equal; ` +
      `rejected options first differ at size ${JSON.stringify(config.rejected)}`,
  );

  // The worker-thread run uses the bundled worker, as the installed command does.
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--no-types'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
  const dir = await mkdtemp(join(tmpdir(), 'auditseal-bench-'));
  // Ctrl-C reaches the children too (same process group); the folder holds about 1 GiB per million events.
  process.once('SIGINT', () => {
    if (!keep) rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
  let exitCode = 0;
  try {
    // 1. Sealing, each size in its own child process.
    const sealArgs = (n: number, name: string) =>
      [
        'bench/seal-child.ts',
        ['--events', String(n), '--out', join(dir, name), '--key-out', join(dir, `${name}.pem`)],
      ] as const;
    log(`sealing ${small.toLocaleString('en-US')} events (memory reference) …`);
    const sealSmall = (await runChild(...sealArgs(small, 'small'))) as unknown as SealChild;
    await rm(join(dir, 'small'), { recursive: true, force: true });
    log(`sealing ${events.toLocaleString('en-US')} events …`);
    const seal = (await runChild(...sealArgs(events, 'large'))) as unknown as SealChild;
    const sealMiB = seal.archive_bytes / MiB;
    log(
      `  seal: ${seal.seal_s.toFixed(2)} s wall (${seal.generate_s.toFixed(2)} s of it generating events), ` +
        `${Math.round(events / seal.seal_s).toLocaleString('en-US')} events/s, ${(sealMiB / seal.seal_s).toFixed(0)} MiB/s, ` +
        `${seal.cpu_s.toFixed(2)} s CPU`,
    );
    log(
      `  seal peak RSS: ${sealSmall.peak_rss_mb.toFixed(1)} MiB at ${small.toLocaleString('en-US')} events, ` +
        `${seal.peak_rss_mb.toFixed(1)} MiB at ${events.toLocaleString('en-US')} (process baseline before sealing ` +
        `${seal.baseline_rss_mb.toFixed(1)} MiB)`,
    );

    if (tamper) await flipOneByte(join(dir, 'large'));

    // 2 + 3. Verifier and SHA-256 floors, interleaved in one child.
    log(`verifying and hashing the same ${sealMiB.toFixed(0)} MiB of archives, ${reps} repetitions …`);
    const verify = (await runChild('bench/verify-child.ts', [
      '--dir',
      join(dir, 'large'),
      '--key',
      join(dir, 'large.pem'),
      '--reps',
      String(reps),
      '--jobs',
      String(jobs),
    ])) as unknown as VerifyChild;
    if (!verify.valid) {
      log(`VERIFICATION FAILED: ${JSON.stringify(verify.findings)}`);
      log(JSON.stringify({ events, verify_valid: false, findings: verify.findings }));
      exitCode = 1;
      return;
    }
    if (verify.stats.events !== events || verify.floor_lines !== events) {
      throw new Error(
        `verifier saw ${verify.stats.events} events and the floor ${verify.floor_lines}; sealed ${events}`,
      );
    }
    const verifyS = best(verify.verify_s);
    const fileS = best(verify.sha256_file_s);
    const perEventS = best(verify.sha256_per_event_s);
    // Same bytes on both sides, so throughput ratios are time ratios.
    const vsFile = fileS / verifyS;
    const vsPerEvent = perEventS / verifyS;
    const jobsS = verify.verify_jobs_s.length > 0 ? best(verify.verify_jobs_s) : Number.NaN;
    const jobsVsFile = fileS / jobsS;
    const vsFileCpu = best(verify.sha256_file_cpu_s) / best(verify.verify_cpu_s);
    const vsPerEventCpu = best(verify.sha256_per_event_cpu_s) / best(verify.verify_cpu_s);
    // The format's own hashing (see bench/verify-child.ts): the most any verifier could reach here.
    const formatS = best(verify.sha256_format_s);
    const formatCpuS = best(verify.sha256_format_cpu_s);
    const ceilingVsFile = fileS / formatS;
    const ceilingVsFileCpu = best(verify.sha256_file_cpu_s) / formatCpuS;
    const bytesMiB = verify.floor_bytes / MiB;
    const verifyMiBs = verify.stats.bytes / MiB / verifyS;
    const fileMiBs = bytesMiB / fileS;
    const perEventMiBs = bytesMiB / perEventS;
    log(
      `  verify: valid=${verify.valid}, best ${verifyS.toFixed(2)} s of [${verify.verify_s.join(', ')}], ` +
        `${Math.round(events / verifyS).toLocaleString('en-US')} events/s, ${verifyMiBs.toFixed(0)} MiB/s, ` +
        `peak RSS ${verify.verify_peak_rss_mb.toFixed(1)} MiB`,
    );
    if (jobs > 1) {
      log(
        `  verify --jobs ${jobs}: best ${jobsS.toFixed(2)} s of [${verify.verify_jobs_s.join(', ')}], ` +
          `${Math.round(events / jobsS).toLocaleString('en-US')} events/s, same report as one thread; ` +
          `${best(verify.verify_jobs_cpu_s).toFixed(2)} s CPU`,
      );
    }
    log(
      `  raw SHA-256, whole files: best ${fileS.toFixed(2)} s of [${verify.sha256_file_s.join(', ')}], ` +
        `${fileMiBs.toFixed(0)} MiB/s`,
    );
    log(
      `  raw SHA-256, one per event: best ${perEventS.toFixed(2)} s of [${verify.sha256_per_event_s.join(', ')}], ` +
        `${perEventMiBs.toFixed(0)} MiB/s`,
    );
    log(
      `  the format's required hashing alone (leaf, chunk tree, id, batch leaf, batch tree): best ` +
        `${formatS.toFixed(2)} s of [${verify.sha256_format_s.join(', ')}] = ${ceilingVsFile.toFixed(2)} of SHA-256 ` +
        `whole files (${ceilingVsFileCpu.toFixed(2)} by CPU time): no verifier of this format can beat that here`,
    );
    log(
      `  verifier / SHA-256 whole files = ${vsFile.toFixed(2)} (goal >= ${GOALS.verify_vs_sha256_file}; ` +
        `${vsFileCpu.toFixed(2)} by CPU time); verifier / SHA-256 per event = ${vsPerEvent.toFixed(2)} ` +
        `(${vsPerEventCpu.toFixed(2)} by CPU time)` +
        (jobs > 1
          ? `; with ${jobs} threads / SHA-256 whole files (one stream) = ${jobsVsFile.toFixed(2)} (goal >= ${GOALS.verify_jobs_vs_sha256_file})`
          : ''),
    );

    // 4. Merkle against merkletreejs, in this process (started with --expose-gc).
    log(
      `merkle: ${merkleLeaves.toLocaleString('en-US')} leaves, ${proofs} random proofs, best of ${merkleReps} …`,
    );
    const merkle = compareMerkle(merkleLeaves, proofs, oursProofs, merkleReps);
    const plain = merkle.peers.plain;
    const pooled = merkle.peers.pooled;
    const rootSpeedup = plain.root.wall / merkle.oursRoot.wall;
    const proofSpeedup = plain.proofsWithBuild.wall / merkle.oursProofs.wall;
    const proofBuiltSpeedup = plain.proof.wall / merkle.oursProofBuilt.wall;
    log(
      `  root: ours ${(merkle.oursRoot.wall * 1e3).toFixed(1)} ms, merkletreejs ${(plain.root.wall * 1e3).toFixed(1)} ms ` +
        `(${rootSpeedup.toFixed(2)}x; ${(plain.root.cpu / merkle.oursRoot.cpu).toFixed(2)}x by CPU time); ` +
        `with the pooled hashFn ${(pooled.root.wall * 1e3).toFixed(1)} ms (${(pooled.root.wall / merkle.oursRoot.wall).toFixed(2)}x)`,
    );
    log(
      `  proofs: ours ${(merkle.oursProof.wall * 1e3).toFixed(2)} ms per proof (timed on ${merkle.oursProofsTimed}, ` +
        `${merkle.oursProofs.wall.toFixed(1)} s for ${proofs}); merkletreejs ${(plain.proof.wall * 1e6).toFixed(1)} us ` +
        `per proof on a built tree, ${plain.proofsWithBuild.wall.toFixed(3)} s for ${proofs} including its build ` +
        `(${proofSpeedup < 1 ? `ours ${(1 / proofSpeedup).toFixed(0)}x slower` : `${proofSpeedup.toFixed(2)}x`})`,
    );
    log(
      `  proofs on a built tree: ours ${(merkle.oursProofBuilt.wall * 1e6).toFixed(1)} us per proof, merkletreejs ` +
        `${(plain.proof.wall * 1e6).toFixed(1)} us (${proofBuiltSpeedup.toFixed(2)}x; goal >= ${GOALS.merkle_proof_speedup_per_proof_built_tree})`,
    );

    const figures = {
      events,
      bytes: seal.bytes,
      archive_bytes: seal.archive_bytes,
      seal_s: seal.seal_s,
      seal_generate_s: seal.generate_s,
      seal_cpu_s: seal.cpu_s,
      seal_events_per_s: Math.round(events / seal.seal_s),
      seal_events_per_s_excluding_generation: Math.round(events / (seal.seal_s - seal.generate_s)),
      seal_small_events: small,
      seal_peak_rss_mb_100k: sealSmall.peak_rss_mb,
      seal_peak_rss_mb_1m: seal.peak_rss_mb,
      seal_baseline_rss_mb: seal.baseline_rss_mb,
      verify_valid: verify.valid,
      verify_reps: reps,
      verify_s: verifyS,
      verify_cpu_s: best(verify.verify_cpu_s),
      verify_events_per_s: Math.round(events / verifyS),
      verify_jobs: jobs,
      verify_jobs_s: jobs > 1 ? jobsS : null,
      verify_jobs_cpu_s: jobs > 1 ? best(verify.verify_jobs_cpu_s) : null,
      verify_jobs_events_per_s: jobs > 1 ? Math.round(events / jobsS) : null,
      verify_jobs_vs_sha256_file: jobs > 1 ? round(jobsVsFile, 3) : null,
      verify_mb_per_s: round(verifyMiBs, 1),
      verify_peak_rss_mb: verify.verify_peak_rss_mb,
      sha256_file_s: fileS,
      sha256_per_event_s: perEventS,
      sha256_file_mb_per_s: round(fileMiBs, 1),
      sha256_per_event_mb_per_s: round(perEventMiBs, 1),
      verify_vs_sha256_file: round(vsFile, 3),
      verify_vs_sha256_per_event: round(vsPerEvent, 3),
      verify_vs_sha256_file_cpu: round(vsFileCpu, 3),
      verify_vs_sha256_per_event_cpu: round(vsPerEventCpu, 3),
      sha256_format_s: formatS,
      sha256_format_cpu_s: formatCpuS,
      format_hashing_vs_sha256_file: round(ceilingVsFile, 3),
      format_hashing_vs_sha256_file_cpu: round(ceilingVsFileCpu, 3),
      verify_vs_format_hashing_cpu: round(formatCpuS / best(verify.verify_cpu_s), 3),
      merkle_leaves: merkleLeaves,
      merkle_reps: merkleReps,
      merkle_root_ours_ms: round(merkle.oursRoot.wall * 1e3, 2),
      merkle_root_merkletreejs_ms: round(plain.root.wall * 1e3, 2),
      merkle_root_speedup: round(rootSpeedup, 2),
      merkle_root_speedup_cpu: round(plain.root.cpu / merkle.oursRoot.cpu, 2),
      merkle_root_speedup_vs_pooled_hashfn: round(pooled.root.wall / merkle.oursRoot.wall, 2),
      merkle_proofs: proofs,
      merkle_proofs_ours_timed: merkle.oursProofsTimed,
      merkle_proof_ours_us: round(merkle.oursProof.wall * 1e6, 1),
      merkle_proof_merkletreejs_us: round(plain.proof.wall * 1e6, 2),
      merkle_proofs_ours_s: round(merkle.oursProofs.wall, 3),
      merkle_proofs_merkletreejs_with_build_s: round(plain.proofsWithBuild.wall, 4),
      merkle_proof_speedup: round(proofSpeedup, 4),
      merkle_proof_speedup_cpu: round(plain.proofsWithBuild.cpu / merkle.oursProofs.cpu, 4),
      merkle_proof_ours_built_tree_us: round(merkle.oursProofBuilt.wall * 1e6, 2),
      merkle_proof_speedup_per_proof_built_tree: round(proofBuiltSpeedup, 3),
      merkle_proof_speedup_per_proof_including_build_share: round(
        plain.proof.wall / merkle.oursProof.wall,
        5,
      ),
      goals_met: {
        verify_vs_sha256_file: vsFile >= GOALS.verify_vs_sha256_file,
        verify_jobs_vs_sha256_file: jobs > 1 ? jobsVsFile >= GOALS.verify_jobs_vs_sha256_file : null,
        merkle_proof_speedup_per_proof_built_tree:
          proofBuiltSpeedup >= GOALS.merkle_proof_speedup_per_proof_built_tree,
        merkle_root_speedup: rootSpeedup >= GOALS.merkle_root_speedup,
        merkle_proof_speedup: proofSpeedup >= GOALS.merkle_proof_speedup,
        seal_peak_rss_le_256mb: Math.max(seal.peak_rss_mb, sealSmall.peak_rss_mb) <= GOALS.seal_peak_rss_mb,
      },
      node: process.version,
      cpu,
      nproc: cpus().length,
      loadavg_start: loadStart,
      loadavg_end: loads(),
    };
    log(`load average at the end: ${loads()}`);
    log(JSON.stringify(figures));
  } finally {
    if (keep) log(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
    process.exitCode = exitCode;
  }
}

await main();
