/**
 * The `auditseal` command line. Each command is a thin shell over a library in shared/.
 * Exit status: 0 valid / done, 1 findings, 2 usage or I/O error.
 */
import { Argument, Command, CommanderError, Option } from 'commander';
import { AuditsealApiError, AuditsealError } from '../client/errors.ts';
import { silenceSdkNodeVersionWarning } from '../local/sdk-warnings.ts';
import { parseDuration, parseInstant, UsageError } from './errors.ts';

// Each command's code is loaded when that command runs, so that `auditseal --help` (and any one command)
// loads only what it needs: start-up time is a benchmark (`npm run bench:cli`, docs/BENCHMARKS.md).
const demoCommand = () => import('./commands/demo.ts');
const downloadCommand = () => import('./commands/download.ts');
const headCommand = () => import('./commands/head.ts');
const postCommand = () => import('./commands/post.ts');
const readCommands = () => import('./commands/read-events.ts');
const profileCommands = () => import('./commands/profiles.ts');
const replayCommand = () => import('./commands/replay-cloudtrail.ts');
const localCredentialsCommand = () => import('./commands/local-credentials.ts');
const replayLogsCommand = () => import('./commands/replay-cloudwatch-logs.ts');
const replayEventBridgeCommand = () => import('./commands/replay-eventbridge.ts');
const alertsCommand = () => import('./commands/alerts.ts');
const sealCommand = () => import('./commands/seal.ts');
const uiCommand = () => import('./commands/ui.ts');
const verifyCommand = () => import('./commands/verify.ts');
const verifyReceiptCommand = () => import('./commands/verify-receipt.ts');

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Builds the program; `setExit` receives the exit status of whichever command ran. */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('auditseal')
    .description('Immutable, signed, offline-verifiable audit log: seal, download and verify.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('verify')
    .description('Verify a folder of digests and archives offline against trusted public keys')
    .argument('<dir>', 'folder with digests/ and archives/ (and optionally receipts/)')
    .option('--key <pem>', 'trusted public key (PEM); repeat for rotated keys', collect, [])
    .option('--from <time>', 'only periods from this RFC 3339 time; every period after it must be present')
    .option('--to <time>', 'only periods before this RFC 3339 time; every period before it must be present')
    .option('--head <file>', 'a head kept with `auditseal head`: the folder must reach it (LEDGER_TRUNCATED)')
    .option('--deep', 'also check that every event is schema-valid, canonical and inside its period', false)
    .option(
      '--resource <id>',
      "check only this resource's profile chain, and print its verified timeline (versions in time order, with diffs)",
    )
    .option('--json', 'print the report as JSON', false)
    .option(
      '--jobs <n>',
      'threads that hash archive chunks, 1 to 256 (default: the number of cores; 1: no worker thread); the report is the same for every value',
    )
    .addHelpText(
      'after',
      '\nExit status: 0 valid, 1 findings, 2 usage or I/O error.\nFinding codes are listed in docs/FORMAT.md.' +
        '\nKey files inside DIR are never trusted; only --key files are.',
    )
    .action(
      async (
        dir: string,
        o: {
          key: string[];
          from?: string;
          to?: string;
          head?: string;
          deep: boolean;
          json: boolean;
          resource?: string;
          jobs?: string;
        },
      ) => {
        const { parseJobs, renderReport, runVerify } = await verifyCommand();
        const jobs = o.jobs !== undefined ? parseJobs(o.jobs) : undefined;
        const report = await runVerify({
          dir,
          keys: o.key,
          ...(o.from ? { fromMs: parseInstant(o.from, '--from') } : {}),
          ...(o.to ? { toMs: parseInstant(o.to, '--to') } : {}),
          ...(o.head ? { head: o.head } : {}),
          ...(o.resource !== undefined ? { resource: o.resource } : {}),
          deep: o.deep,
          json: o.json,
          ...(jobs !== undefined ? { jobs } : {}),
        });
        print(o.json ? JSON.stringify(report, null, 2) : renderReport(dir, report));
        setExit(report.valid ? 0 : 1);
      },
    );

  program
    .command('verify-receipt')
    .description('Verify an ingest receipt (or a JSON array of receipts) offline')
    .argument('<file>', 'receipt JSON file')
    .option('--key <pem>', 'trusted public key (PEM); repeat for rotated keys', collect, [])
    .option('--event <file>', 'the event itself (its stored canonical JSON): the receipt must be about it')
    .option('--json', 'print the result as JSON', false)
    .action(async (file: string, o: { key: string[]; event?: string; json: boolean }) => {
      const { renderReceipts, runVerifyReceipt } = await verifyReceiptCommand();
      const checks = await runVerifyReceipt(file, o.key, o.event);
      print(o.json ? JSON.stringify(checks, null, 2) : renderReceipts(file, checks));
      setExit(checks.every((c) => c.ok) ? 0 : 1);
    });

  program
    .command('seal')
    .description(
      'Seal an existing log (JSON lines: auditseal events or CloudTrail records) into a verifiable folder',
    )
    .requiredOption('--in <events.jsonl>', 'input file, one JSON event or CloudTrail record per line')
    .requiredOption(
      '--out <dir>',
      'output folder (digests/, archives/, keys/); an existing chain there is continued',
    )
    .requiredOption('--key <pem>', 'EC P-256 private key (PEM) to sign the digests with')
    .option('--ledger <name>', 'ledger name used in object keys', 'import')
    .option('--period <duration>', 'period length: 3600, 60m, 1h (60 s to 1 day, dividing a day)', '1h')
    .addOption(new Option('--chunk-leaves <n>', 'events per archive chunk (power of two)').hideHelp())
    .option('--skip-invalid', 'seal the valid lines and report the rejected ones instead of failing', false)
    .option('--json', 'print the summary as JSON', false)
    .action(
      async (o: {
        in: string;
        out: string;
        key: string;
        ledger: string;
        period: string;
        chunkLeaves?: string;
        skipInvalid: boolean;
        json: boolean;
      }) => {
        const { renderSeal, runSeal } = await sealCommand();
        const summary = await runSeal({
          in: o.in,
          out: o.out,
          key: o.key,
          ledger: o.ledger,
          periodSeconds: parseDuration(o.period),
          ...(o.chunkLeaves === undefined ? {} : { chunkLeaves: Number(o.chunkLeaves) }),
          skipInvalid: o.skipInvalid,
          json: o.json,
        });
        print(o.json ? JSON.stringify(summary, null, 2) : renderSeal(summary));
        setExit(0);
      },
    );

  program
    .command('download')
    .description('Download the digests and archives of a time range into a verifiable folder (auditor role)')
    .requiredOption('--from <time>', 'start of the range (RFC 3339)')
    .requiredOption('--to <time>', 'end of the range (RFC 3339, exclusive)')
    .requiredOption('--out <dir>', 'folder to write digests/ and archives/ into')
    .option(
      '--wait',
      'first wait until every period of the range is sealed (progress on standard error)',
      false,
    )
    .option('--timeout <duration>', 'with --wait: give up after this long (90, 90s, 5m, 1h)', '10m')
    .option('--endpoint <url>', 'API endpoint (default: .auditseal/local.json or AUDITSEAL_ENDPOINT)')
    .option(
      '--local-file <path>',
      'local stack description with the auditor credentials',
      '.auditseal/local.json',
    )
    .option('--json', 'print the summary as JSON', false)
    .addHelpText(
      'after',
      [
        '',
        'A period is sealed once its grace has passed after its end (locally: 60 s periods, sealed about 16 s',
        'after they end). Without --wait, a range that is not sealed yet downloads what is sealed and says',
        'when the rest will be. With --wait, the command first waits until the period holding the instant',
        'just before --to is sealed (periods are sealed in order, so the whole range is then sealed), and',
        'fails at once if that cannot happen within --timeout.',
        'Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else the auditor role in .auditseal/local.json.',
        'Exit status: 0 downloaded, 1 --wait timed out (nothing downloaded), 2 usage, I/O, API or network error.',
      ].join('\n'),
    )
    .action(
      async (o: {
        from: string;
        to: string;
        out: string;
        wait: boolean;
        timeout: string;
        endpoint?: string;
        localFile: string;
        json: boolean;
      }) => {
        const timeoutSeconds = parseDuration(o.timeout, '--timeout');
        const { renderDownload, runDownload, SealingWaitTimeout } = await downloadCommand();
        try {
          const summary = await runDownload({
            fromMs: parseInstant(o.from, '--from'),
            toMs: parseInstant(o.to, '--to'),
            out: o.out,
            ...(o.endpoint ? { endpoint: o.endpoint } : {}),
            localFile: o.localFile,
            json: o.json,
            ...(o.wait ? { waitTimeoutMs: timeoutSeconds * 1000 } : {}),
          });
          print(o.json ? JSON.stringify(summary, null, 2) : renderDownload(summary));
          setExit(0);
        } catch (error) {
          if (!(error instanceof SealingWaitTimeout)) throw error;
          process.stderr.write(`auditseal: ${error.message}\n`);
          setExit(1);
        }
      },
    );

  program
    .command('post')
    .description('Post events to the API (writer role) and keep one verifiable receipt file per event')
    .argument('<file>', 'events: JSON lines, a JSON array, or {"events": [...]}; - for standard input')
    .requiredOption('--out <dir>', 'folder for the receipts, one <eventId>.receipt.json per event')
    .option(
      '--endpoint <url>',
      'API endpoint of a deployed stack (default: AUDITSEAL_ENDPOINT, else the local stack)',
    )
    .option('--region <region>', 'signing region (default: from the endpoint host name, else AWS_REGION)')
    .option(
      '--profile <name>',
      'AWS profile for a deployed stack (default: AWS_PROFILE, else the standard chain)',
    )
    .option(
      '--local-file <path>',
      'local stack description with the writer credentials',
      '.auditseal/local.json',
    )
    .option('--key <pem>', 'also verify every receipt against this public key (PEM); repeatable', collect, [])
    .option('--json', 'print the summary as JSON', false)
    .addHelpText(
      'after',
      [
        '',
        'Every event is checked before the first request: bad input sends nothing (exit 2).',
        'Requests carry at most 500 events and 5 MiB; throttling, 5xx and network errors are retried with',
        'the same event ids, so running the same command again is always safe.',
        'Receipt file names are the event ids with every character outside A-Z a-z 0-9 . _ @ + = -',
        'percent-encoded (/ is %2F, : is %3A). Each file is accepted as is by `auditseal verify-receipt`,',
        'and a folder DIR/receipts/ of them is checked against the sealed events by `auditseal verify DIR`.',
        '',
        'Credentials: the writer keys of .auditseal/local.json for the local stack; for any other endpoint,',
        'the standard AWS credential chain (environment, profile, SSO, instance role).',
        'Exit status: 0 posted (and receipts valid with --key), 1 a receipt does not verify, 2 usage, input,',
        'API or network error.',
      ].join('\n'),
    )
    .action(
      async (
        file: string,
        o: {
          out: string;
          endpoint?: string;
          region?: string;
          profile?: string;
          localFile: string;
          key: string[];
          json: boolean;
        },
      ) => {
        const { renderPost, runPost } = await postCommand();
        const summary = await runPost({
          input: file,
          out: o.out,
          ...(o.endpoint ? { endpoint: o.endpoint } : {}),
          ...(o.region ? { region: o.region } : {}),
          ...(o.profile ? { profile: o.profile } : {}),
          localFile: o.localFile,
          keys: o.key,
          json: o.json,
        });
        print(o.json ? JSON.stringify(summary, null, 2) : renderPost(summary));
        setExit(summary.verified && summary.verified.invalid.length > 0 ? 1 : 0);
      },
    );

  program
    .command('head')
    .description('Save the newest signed statement (GET /v1/head, auditor role) for later `verify --head`')
    .requiredOption('--out <file>', 'file to write the head to (JSON)')
    .option('--endpoint <url>', 'API endpoint (default: .auditseal/local.json or AUDITSEAL_ENDPOINT)')
    .option(
      '--local-file <path>',
      'local stack description with the auditor credentials',
      '.auditseal/local.json',
    )
    .option('--json', 'print the summary as JSON', false)
    .addHelpText(
      'after',
      '\nCredentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else the auditor role in .auditseal/local.json.',
    )
    .action(async (o: { out: string; endpoint?: string; localFile: string; json: boolean }) => {
      const { renderHead, runHead } = await headCommand();
      const summary = await runHead({
        out: o.out,
        ...(o.endpoint ? { endpoint: o.endpoint } : {}),
        localFile: o.localFile,
      });
      print(o.json ? JSON.stringify(summary, null, 2) : renderHead(summary));
      setExit(0);
    });

  const apiOptions = (command: Command) =>
    command
      .option('--endpoint <url>', 'API endpoint (default: .auditseal/local.json or AUDITSEAL_ENDPOINT)')
      .option(
        '--local-file <path>',
        'local stack description with the role credentials',
        '.auditseal/local.json',
      );

  apiOptions(
    program
      .command('search')
      .description('Search events: who did what to which resource, and when (reader role), newest first')
      .option('--actor <id>', 'actor id')
      .option('--resource <id>', 'resource id (an ARN)')
      .option('--action <name>', 'action, e.g. s3:DeleteBucket')
      .option('--outcome <result>', 'success or failure')
      .option(
        '--channel <channel>',
        'api, cloudtrail, import, kubernetes, detection or read (alias: --source)',
      )
      .option('--source <channel>', 'same as --channel')
      .option('--from <time>', 'received at or after this RFC 3339 time')
      .option('--to <time>', 'received before this RFC 3339 time')
      .option('--limit <n>', 'results per page (1 to 500)')
      .option('--all', 'follow cursors to the last page', false)
      .option(
        '--verify',
        "check every result's receipt against --key (and that it is about the returned bytes)",
        false,
      )
      .option('--key <pem>', 'trusted public key (PEM) for --verify; repeat for rotated keys', collect, [])
      .option('--json', 'print the results as JSON', false)
      .addHelpText(
        'after',
        '\nExit status: 0 done (and, with --verify, every receipt valid), 1 a receipt did not verify, 2 usage or I/O error.',
      ),
  ).action(
    async (o: {
      actor?: string;
      resource?: string;
      action?: string;
      outcome?: string;
      channel?: string;
      source?: string;
      from?: string;
      to?: string;
      limit?: string;
      all: boolean;
      verify: boolean;
      key: string[];
      json: boolean;
      endpoint?: string;
      localFile: string;
    }) => {
      if (o.verify && o.key.length === 0) throw new UsageError('--verify needs the trusted keys: --key PEM');
      if (o.channel && o.source && o.channel !== o.source)
        throw new UsageError('--channel and --source differ');
      const { renderSearch, runSearch } = await readCommands();
      const filters = {
        actor: o.actor,
        resource: o.resource,
        action: o.action,
        outcome: o.outcome,
        channel: o.channel ?? o.source,
        from: o.from,
        to: o.to,
        limit: o.limit,
      };
      const outcome = await runSearch({
        filters,
        all: o.all,
        ...(o.verify ? { verifyKeys: o.key } : {}),
        ...(o.endpoint ? { endpoint: o.endpoint } : {}),
        localFile: o.localFile,
      });
      print(o.json ? JSON.stringify(outcome, null, 2) : renderSearch(outcome, filters));
      setExit(outcome.checks?.some((c) => !c.ok) ? 1 : 0);
    },
  );

  apiOptions(
    program
      .command('event')
      .description('One event with its receipt, its period and, once sealed, its digest (reader role)')
      .argument('<id>', 'event id (ARNs with / and : are fine)')
      .option(
        '--include-profile',
        "with the profile version of the event's resource in force at its time, and the one it caused",
        false,
      )
      .option('--json', 'print the answer as JSON', false),
  ).action(
    async (
      id: string,
      o: { json: boolean; includeProfile: boolean; endpoint?: string; localFile: string },
    ) => {
      const { renderEvent, runEvent } = await readCommands();
      const body = await runEvent(id, {
        ...(o.endpoint ? { endpoint: o.endpoint } : {}),
        localFile: o.localFile,
        includeProfile: o.includeProfile,
      });
      print(o.json ? JSON.stringify(body, null, 2) : renderEvent(body));
      setExit(0);
    },
  );

  apiOptions(
    program
      .command('proof')
      .description("Fetch an event's inclusion proof in its period digest into a file (auditor role)")
      .argument('<id>', 'event id')
      .requiredOption('--out <file>', 'where to write the proof (JSON)'),
  ).action(async (id: string, o: { out: string; endpoint?: string; localFile: string }) => {
    const { runProof } = await readCommands();
    const saved = await runProof(id, o.out, {
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      localFile: o.localFile,
    });
    print(`Saved the proof of ${id} (leaf ${saved.leafIndex} of ${saved.treeSize}) to ${saved.out}`);
    setExit(0);
  });

  apiOptions(
    program
      .command('put-profile')
      .description("Record a resource profile (a JSON file) as the resource's next version (writer role)")
      .argument('<file>', 'the profile: resourceId, resourceType, configuration, lastModified, source, …')
      .option('--json', 'print the answer as JSON', false),
  ).action(async (file: string, o: { json: boolean; endpoint?: string; localFile: string }) => {
    const { renderPutProfile, runPutProfile } = await profileCommands();
    const body = await runPutProfile(file, {
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      localFile: o.localFile,
    });
    print(o.json ? JSON.stringify(body, null, 2) : renderPutProfile(body));
    setExit(0);
  });

  apiOptions(
    program
      .command('profile')
      .description("A resource's profile version in force at a time, or the latest (reader role)")
      .argument('<id>', 'resource id (an ARN or an app id)')
      .option('--at <time>', 'RFC 3339 time (default: the latest version)')
      .option('--json', 'print the answer as JSON', false),
  ).action(async (id: string, o: { at?: string; json: boolean; endpoint?: string; localFile: string }) => {
    const { renderProfile, runProfile } = await profileCommands();
    const body = await runProfile(id, o.at, {
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      localFile: o.localFile,
    });
    print(o.json ? JSON.stringify(body, null, 2) : renderProfile(body));
    setExit(0);
  });

  apiOptions(
    program
      .command('timeline')
      .description(
        "A resource's profile versions with their diffs and its events, in time order (reader role)",
      )
      .argument('<id>', 'resource id (an ARN or an app id)')
      .option('--from <time>', 'RFC 3339: items at or after it')
      .option('--to <time>', 'RFC 3339: items before it')
      .option('--limit <n>', 'items per page (1-1000)')
      .option('--all', 'follow cursors to the last page', false)
      .option('--json', 'print the answer as JSON', false),
  ).action(
    async (
      id: string,
      o: {
        from?: string;
        to?: string;
        limit?: string;
        all: boolean;
        json: boolean;
        endpoint?: string;
        localFile: string;
      },
    ) => {
      const { renderTimeline, runTimeline } = await profileCommands();
      const page = await runTimeline(id, {
        all: o.all,
        ...(o.from ? { from: o.from } : {}),
        ...(o.to ? { to: o.to } : {}),
        ...(o.limit ? { limit: o.limit } : {}),
        ...(o.endpoint ? { endpoint: o.endpoint } : {}),
        localFile: o.localFile,
      });
      print(o.json ? JSON.stringify(page, null, 2) : renderTimeline(page));
      setExit(0);
    },
  );

  program
    .command('verify-proof')
    .description('Verify an inclusion proof offline against trusted public keys')
    .argument('<file>', 'proof file (from auditseal proof or GET /v1/events/{id}/proof)')
    .option('--key <pem>', 'trusted public key (PEM); repeat for rotated keys', collect, [])
    .option('--json', 'print the result as JSON', false)
    .addHelpText('after', '\nExit status: 0 valid, 1 finding, 2 usage or I/O error.')
    .action(async (file: string, o: { key: string[]; json: boolean }) => {
      const { renderProofCheck, runVerifyProof } = await readCommands();
      const check = await runVerifyProof(file, o.key);
      print(o.json ? JSON.stringify(check, null, 2) : renderProofCheck(file, check));
      setExit(check.ok ? 0 : 1);
    });

  program
    .command('ui')
    .description("The auditor's page: verify a folder in a browser, offline (docs/UI.md)")
    .argument('[dir]', 'a downloaded folder to open in the page (served read-only on 127.0.0.1)')
    .option('--write <file>', 'write the self-contained page to FILE and exit (open it from disk)')
    .option('--port <n>', 'port on 127.0.0.1 (default: any free port)')
    .option('--no-open', 'do not open the browser; only print the address')
    .action(async (dir: string | undefined, o: { write?: string; port?: string; open: boolean }) => {
      const { openInBrowser, runUiWrite, startUiServer } = await uiCommand();
      if (o.write !== undefined) {
        if (dir !== undefined) throw new UsageError('give either DIR or --write FILE, not both');
        const written = await runUiWrite(o.write);
        print(
          `Wrote the auditor's page to ${written.file} (${written.bytes} bytes). Open it from disk: it needs no network.`,
        );
        setExit(0);
        return;
      }
      const port = o.port === undefined ? 0 : Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535)
        throw new UsageError(`--port ${o.port} is not a port`);
      const server = await startUiServer({ ...(dir !== undefined ? { dir } : {}), port });
      print(`The auditor's page: ${server.url}  (Ctrl-C to stop)`);
      if (o.open && !openInBrowser(server.url)) print('Could not open a browser: open the address above.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
      setExit(0);
    });

  program
    .command('alerts')
    .description('List detection alerts (Sigma rule matches), newest first (reader role)')
    .option('--rule <id>', 'only alerts of this rule id')
    .addOption(
      new Option('--level <level>', 'only alerts of this level').choices([
        'informational',
        'low',
        'medium',
        'high',
        'critical',
      ]),
    )
    .option('--from <time>', 'alerts stored from this RFC 3339 time')
    .option('--to <time>', 'alerts stored before this RFC 3339 time')
    .option('--limit <n>', 'alerts per page (1-1000)', '100')
    .option('--cursor <cursor>', 'continue a listing where it stopped')
    .option('--all', 'follow the cursors to the end (up to --max alerts)', false)
    .option('--max <n>', 'with --all: at most this many alerts', '10000')
    .option('--wait <duration>', 'wait up to this long (30, 30s, 2m) for a first alert that matches')
    .option('--endpoint <url>', 'API endpoint (default: .auditseal/local.json or AUDITSEAL_ENDPOINT)')
    .option(
      '--local-file <path>',
      'local stack description with the reader credentials',
      '.auditseal/local.json',
    )
    .option('--json', 'print the alerts as JSON (with each stored alert event and its receipt)', false)
    .addHelpText(
      'after',
      '\nCredentials: the reader keys of .auditseal/local.json for the local stack; for any other endpoint,' +
        '\nthe standard AWS credential chain. Each alert is a ledger event: auditseal verify-receipt checks' +
        '\nits receipt offline.' +
        '\nExit status: 0 listed (none is not an error), 1 --wait ended with no alert, 2 usage, API or network error.',
    )
    .action(
      async (o: {
        rule?: string;
        level?: string;
        from?: string;
        to?: string;
        limit: string;
        cursor?: string;
        all: boolean;
        max: string;
        wait?: string;
        endpoint?: string;
        localFile: string;
        json: boolean;
      }) => {
        const waitSeconds = o.wait === undefined ? undefined : parseDuration(o.wait, '--wait');
        if (!/^\d{1,4}$/.test(o.limit)) throw new UsageError('--limit must be a whole number from 1 to 1000');
        if (!/^\d{1,7}$/.test(o.max)) throw new UsageError('--max must be a positive whole number');
        const { AlertWaitTimeout, renderAlerts, runAlerts } = await alertsCommand();
        const result = await runAlerts({
          ...(waitSeconds === undefined ? {} : { waitMs: waitSeconds * 1000 }),
          ...(o.rule !== undefined ? { rule: o.rule } : {}),
          ...(o.level !== undefined ? { level: o.level } : {}),
          ...(o.from !== undefined ? { from: new Date(parseInstant(o.from, '--from')).toISOString() } : {}),
          ...(o.to !== undefined ? { to: new Date(parseInstant(o.to, '--to')).toISOString() } : {}),
          limit: Number(o.limit),
          ...(o.cursor !== undefined ? { cursor: o.cursor } : {}),
          all: o.all,
          max: Number(o.max),
          ...(o.endpoint ? { endpoint: o.endpoint } : {}),
          localFile: o.localFile,
        }).catch((error: unknown) => {
          if (!(error instanceof AlertWaitTimeout)) throw error;
          process.stderr.write(`auditseal: ${error.message}\n`);
          return undefined;
        });
        if (result === undefined) {
          setExit(1);
          return;
        }
        print(
          o.json
            ? JSON.stringify(result, null, 2)
            : renderAlerts(result, { rule: o.rule, level: o.level, from: o.from, to: o.to }),
        );
        setExit(0);
      },
    );

  const local = program.command('local').description('Tools for the local stack started by npm start');
  local
    .command('credentials')
    .description("Print a local role's access key and secret as KEY:SECRET, for curl --aws-sigv4 --user")
    .addArgument(new Argument('<role>', 'the role to sign as').choices(['writer', 'reader', 'auditor']))
    .option('--local-file <path>', 'the local stack description', '.auditseal/local.json')
    .option('--json', 'print endpoint, region, accessKeyId and secretAccessKey as JSON', false)
    .addHelpText(
      'after',
      [
        '',
        'The secret is printed on purpose, for one command to read as it runs; the banner never prints it:',
        '  curl --aws-sigv4 "aws:amz:us-east-1:execute-api" --user "$(npx auditseal local credentials writer)" …',
        'These keys exist only in the local stack (.auditseal/local.json, mode 0600).',
        'Exit status: 0 printed, 2 no local stack file (start it with npm start) or a bad role.',
      ].join('\n'),
    )
    .action(async (role: string, o: { localFile: string; json: boolean }) => {
      const { renderLocalCredentials, runLocalCredentials } = await localCredentialsCommand();
      const credentials = await runLocalCredentials(role, o.localFile);
      print(o.json ? JSON.stringify(credentials, null, 2) : renderLocalCredentials(credentials));
      setExit(0);
    });

  local
    .command('replay-cloudtrail')
    .description(
      'Replay CloudTrail records (JSON lines) into the local stack as EventBridge → SQS → forwarder deliveries',
    )
    .argument('<file>', 'CloudTrail records, one JSON object per line')
    .option('--local-file <path>', 'the local stack description', '.auditseal/local.json')
    .option('--json', 'print the summary as JSON', false)
    .action(async (file: string, o: { localFile: string; json: boolean }) => {
      const { renderReplay, runReplay } = await replayCommand();
      const summary = await runReplay(file, { localFile: o.localFile, json: o.json });
      print(o.json ? JSON.stringify(summary, null, 2) : renderReplay(file, summary));
      setExit(summary.failed > 0 ? 1 : 0);
    });

  local
    .command('replay-eventbridge')
    .description(
      'Deliver EventBridge events (CloudTrail API calls, AWS Config item changes, …) to the local stack ' +
        'through the forwarder, as its SQS queue delivers them',
    )
    .argument('<file>', 'EventBridge events, one JSON object per line')
    .option('--local-file <path>', 'the local stack description', '.auditseal/local.json')
    .option('--json', 'print the summary as JSON', false)
    .addHelpText(
      'after',
      [
        '',
        'Each line is put on the queue byte for byte. CloudTrail events go into the ledger; AWS Config items',
        '("Config Configuration Item Change") and the CloudTrail records that carry a resource\'s new state',
        'become profile versions (docs/PROFILES.md). Prints stored, already stored and rejected (with reasons).',
        'Exit status: 0 all delivered, 1 some still failing after redeliveries, 2 usage or I/O error, or a',
        'line that is not an EventBridge event (then nothing is delivered).',
      ].join('\n'),
    )
    .action(async (file: string, o: { localFile: string; json: boolean }) => {
      const { renderEventBridgeReplay, runEventBridgeReplay } = await replayEventBridgeCommand();
      const summary = await runEventBridgeReplay(file, { localFile: o.localFile, json: o.json });
      print(o.json ? JSON.stringify(summary, null, 2) : renderEventBridgeReplay(file, summary));
      setExit(summary.failed > 0 ? 1 : 0);
    });

  local
    .command('replay-cloudwatch-logs')
    .description(
      'Deliver CloudWatch Logs subscription payloads (or Kubernetes audit Events, wrapped as EKS delivers them) ' +
        'to the local stack through the Kubernetes forwarder',
    )
    .argument(
      '<file>',
      'JSON or JSON lines: {"awslogs":{"data":…}} events, decoded DATA_MESSAGEs, or audit Events',
    )
    .option(
      '--cluster <name>',
      'EKS cluster name for bare Events (log group /aws/eks/<name>/cluster)',
      'local',
    )
    .option('--batch <n>', 'bare Events per payload', '100')
    .option('--local-file <path>', 'the local stack description', '.auditseal/local.json')
    .option('--json', 'print the summary as JSON', false)
    .addHelpText(
      'after',
      '\nExit status: 0 all delivered, 1 a payload was refused (nothing of it stored), 2 usage or I/O error.',
    )
    .action(async (file: string, o: { cluster: string; batch: string; localFile: string; json: boolean }) => {
      if (!/^\d{1,5}$/.test(o.batch)) throw new UsageError('--batch must be a whole number from 1 to 10000');
      const { renderCloudWatchLogsReplay, runCloudWatchLogsReplay } = await replayLogsCommand();
      const summary = await runCloudWatchLogsReplay(file, {
        localFile: o.localFile,
        cluster: o.cluster,
        batch: Number(o.batch),
      });
      print(o.json ? JSON.stringify(summary, null, 2) : renderCloudWatchLogsReplay(file, summary));
      setExit(summary.refused.length > 0 ? 1 : 0);
    });

  local
    .command('rotate-key')
    .description(
      'Rotate the local signing key: a new KMS key takes over, and its signed key record (FORMAT.md §9.4) is stored',
    )
    .option('--local-file <path>', 'the local stack description', '.auditseal/local.json')
    .option('--json', 'print the result as JSON', false)
    .action(async (o: { localFile: string; json: boolean }) => {
      const { rotateLocalSigningKey } = await import('../local/rotate-key.ts');
      const rotated = await rotateLocalSigningKey(o.localFile).catch((error: unknown) => {
        throw new UsageError(error instanceof Error ? error.message : String(error));
      });
      print(
        o.json
          ? JSON.stringify(rotated, null, 2)
          : [
              `signing key rotated at ${rotated.notBefore}`,
              `  retired ${rotated.previousKeyId}`,
              `  active  ${rotated.keyId}`,
              '  verify across the rotation with both public keys: auditseal verify DIR --key OLD.pem --key NEW.pem',
            ].join('\n'),
      );
      setExit(0);
    });

  program
    .command('demo')
    .description(
      'Offline walk-through: seal the shipped CloudTrail sample, verify it, then catch a tampered copy',
    )
    .option('--out <dir>', 'where to write the sealed folder', '.auditseal/demo')
    .action(async (o: { out: string }) => {
      const { runDemo } = await demoCommand();
      setExit(await runDemo(o.out, (...lines: string[]) => print(lines.join('\n'))));
    });

  return program;
}

/** Runs the CLI and returns its exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  // The `local` commands create AWS SDK clients: their Node.js version notice is not actionable here either.
  silenceSdkNodeVersionWarning();
  let exit = 0;
  const program = buildProgram((code) => {
    exit = code;
  });
  try {
    await program.parseAsync([...argv]);
    return exit;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
        ? 0
        : 2;
    }
    if (error instanceof AuditsealApiError) {
      process.stderr.write(`auditseal: the API refused the request: ${error.message}\n`);
      return 2;
    }
    if (error instanceof AuditsealError) {
      process.stderr.write(`auditseal: ${error.message}\n`);
      return 2;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`auditseal: ${error.message}\n`);
      return 2;
    }
    const e = error as NodeJS.ErrnoException;
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) {
      process.stderr.write(`auditseal: I/O error: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`auditseal: internal error: ${e.message}\n`);
    return 2;
  }
}
