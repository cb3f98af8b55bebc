/**
 * The auditor's page, main thread: plain DOM, no framework. Collects the trusted keys and the folder,
 * hands them to the verification worker (worker.ts, inlined as a blob), and draws what comes back: the
 * verdict and findings, the strip of periods, a period's digest and events, an event's audit path.
 */
import { keysFromPaths, type PickedFile } from './browser-reader.ts';
import { defaultJobs } from './jobs.ts';
import type {
  EventDetail,
  FolderSource,
  PageReport,
  PeriodCell,
  PeriodDetail,
  Request,
  ResourceDetail,
  ResourceRow,
  Response,
} from './protocol.ts';

declare const __WORKER_SOURCE__: string;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

const worker = new Worker(URL.createObjectURL(new Blob([__WORKER_SOURCE__], { type: 'text/javascript' })));
let queue: Promise<unknown> = Promise.resolve();

/** One request at a time; progress messages go to the progress bar. */
function call(request: Request, transfer: Transferable[] = []): Promise<Response> {
  const run = () =>
    new Promise<Response>((resolve) => {
      worker.onmessage = (e: MessageEvent<Response>) => {
        if (e.data.type === 'progress') {
          const p = e.data.progress;
          const bar = $<HTMLProgressElement>('progress');
          bar.max = Math.max(1, p.total);
          bar.value = p.done;
          $('progress-text').textContent =
            `${p.phase}: ${p.done.toLocaleString()} of ${p.total.toLocaleString()}${p.phase === 'archives' ? ' bytes' : ''}`;
          return;
        }
        resolve(e.data);
      };
      worker.postMessage(request, transfer);
    });
  const next = queue.then(run, run);
  queue = next;
  return next;
}

function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

function showError(message: string): void {
  $('error').textContent = message;
}

// ---------------------------------------------------------------------------------------------------
// Inputs

const servedBase = document.querySelector<HTMLMetaElement>('meta[name="auditseal-folder"]')?.content ?? '';
// Absolute: the worker runs from a blob: URL, against which a path does not resolve.
let source: FolderSource | undefined = servedBase
  ? { kind: 'served', base: new URL(servedBase, location.href).href }
  : undefined;
let chosenKeys: { name: string; text: string }[] = [];
let folderPems: Record<string, string> = {};
const confirmed = new Set<string>();

function trustedPems(): string[] {
  return [...chosenKeys.map((k) => k.text), ...[...confirmed].map((o) => folderPems[o]!).filter(Boolean)];
}

function updateVerifyButton(): void {
  $<HTMLButtonElement>('verify').disabled = !source || trustedPems().length === 0;
}

$<HTMLInputElement>('key-files').addEventListener('change', async (e) => {
  const files = [...((e.target as HTMLInputElement).files ?? [])];
  chosenKeys = await Promise.all(files.map(async (f) => ({ name: f.name, text: await f.text() })));
  const list = $('key-list');
  list.replaceChildren(...chosenKeys.map((k) => el('li', { class: 'trusted' }, `${k.name} (trusted)`)));
  updateVerifyButton();
});

async function folderChosen(files: PickedFile[]): Promise<void> {
  source = { kind: 'files', files };
  $('folder-summary').textContent = `${files.length} file(s) chosen`;
  await listFolderKeys();
  updateVerifyButton();
}

async function listFolderKeys(): Promise<void> {
  if (!source) return;
  const r = await call({ type: 'folder-keys', source });
  if (r.type !== 'folder-keys') return;
  folderPems = r.pems;
  confirmed.clear();
  const box = $('folder-keys');
  box.replaceChildren();
  if (r.files.length === 0) return;
  box.append(
    el(
      'p',
      { class: 'untrusted' },
      'Key files found inside the folder. They are UNTRUSTED: whoever could change the folder could change them. Trust one only after checking its key id against a source outside the folder.',
    ),
  );
  for (const f of r.files) {
    const box2 = el('input', { type: 'checkbox', 'data-testid': 'trust-folder-key' }) as HTMLInputElement;
    box2.disabled = f.keyIds.length === 0;
    box2.addEventListener('change', () => {
      if (box2.checked) confirmed.add(f.object);
      else confirmed.delete(f.object);
      updateVerifyButton();
    });
    const what = f.keyIds.length === 0 ? 'not a public key' : `key id ${f.keyIds.join(', ')}`;
    box.append(
      el('label', { class: 'untrusted' }, box2, ` ${f.object}: ${what} (untrusted until you tick this)`),
    );
  }
}

$<HTMLInputElement>('folder').addEventListener('change', async (e) => {
  const files = [...((e.target as HTMLInputElement).files ?? [])];
  const keys = keysFromPaths(files.map((f) => f.webkitRelativePath || f.name));
  await folderChosen(files.map((file, i) => ({ key: keys[i]!, file })));
});

/** Files below a dropped folder entry, with their paths. */
async function entryFiles(
  entry: FileSystemEntry,
  path: string,
  out: { path: string; file: File }[],
): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) =>
      (entry as FileSystemFileEntry).file(resolve, reject),
    );
    out.push({ path: `${path}${entry.name}`, file });
    return;
  }
  if (!entry.isDirectory) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0) break;
    for (const child of batch) await entryFiles(child, `${path}${entry.name}/`, out);
  }
}

const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', async (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const found: { path: string; file: File }[] = [];
  for (const item of [...(e.dataTransfer?.items ?? [])]) {
    const entry = item.webkitGetAsEntry();
    if (entry) await entryFiles(entry, '', found);
  }
  const keys = keysFromPaths(found.map((f) => f.path));
  await folderChosen(found.map((f, i) => ({ key: keys[i]!, file: f.file })));
});

function parseInstant(id: string): number | undefined {
  const text = $<HTMLInputElement>(id).value.trim();
  if (text === '') return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`${id}: ${text} is not a date and time`);
  return ms;
}

// ---------------------------------------------------------------------------------------------------
// Verifying

/** Bytes of the picked folder's archive chunks; undefined for a served folder (not known here). */
function archiveBytes(folder: FolderSource): number | undefined {
  if (folder.kind !== 'files') return undefined;
  let bytes = 0;
  for (const f of folder.files)
    if (f.key.startsWith('archives/') && f.key.endsWith('.jsonl')) bytes += f.file.size;
  return bytes;
}

/** `--jobs`: the option's value, else the page's default (`defaultJobs`, ui/jobs.ts). */
function jobsWanted(folder: FolderSource): number {
  const text = $<HTMLInputElement>('jobs').value.trim();
  const n = Number(text);
  if (text !== '' && Number.isSafeInteger(n) && n >= 1) return Math.min(n, 16);
  return defaultJobs(archiveBytes(folder), navigator.hardwareConcurrency);
}

let lastReport: PageReport | undefined;

$('verify').addEventListener('click', async () => {
  if (!source) return;
  showError('');
  let fromMs: number | undefined;
  let toMs: number | undefined;
  try {
    fromMs = parseInstant('from');
    toMs = parseInstant('to');
    if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs)
      throw new Error('from must be before to');
  } catch (error) {
    showError((error as Error).message);
    return;
  }
  const resource = $<HTMLInputElement>('resource').value.trim();
  const headFile = $<HTMLInputElement>('head').files?.[0];
  const head = headFile ? new Uint8Array(await headFile.arrayBuffer()) : undefined;
  $<HTMLButtonElement>('verify').disabled = true;
  $('result').hidden = true;
  const started = performance.now();
  const r = await call({
    type: 'verify',
    source,
    trustedPems: trustedPems(),
    deep: $<HTMLInputElement>('deep').checked,
    ...(fromMs !== undefined ? { fromMs } : {}),
    ...(toMs !== undefined ? { toMs } : {}),
    ...(head ? { head } : {}),
    ...(resource !== '' ? { resource } : {}),
    jobs: jobsWanted(source),
  });
  const seconds = (performance.now() - started) / 1000;
  $<HTMLButtonElement>('verify').disabled = false;
  if (r.type === 'error') {
    showError(r.message);
    return;
  }
  if (r.type !== 'report') return;
  $('progress-text').dataset['seconds'] = seconds.toFixed(3);
  $('progress-text').dataset['reads'] = r.reads;
  $('progress-text').textContent = `done in ${seconds.toFixed(2)} s`;
  showReport(r.report, r.periods, r.resources);
  if (r.resource) showResource(r.resource);
});

function showReport(report: PageReport, periods: PeriodCell[], resources: ResourceRow[]): void {
  lastReport = report;
  $('result').hidden = false;
  const verdict = $('verdict');
  verdict.textContent = report.valid ? 'VALID' : 'INVALID';
  verdict.className = report.valid ? 'valid' : 'invalid';
  const s = report.stats;
  const ledgers = report.ledgers
    .map(
      (l) =>
        `ledger ${l.ledger}: ${l.digests} digest(s), ${l.events} event(s), periods ${l.firstPeriod ?? '-'} … ${l.lastPeriod ?? '-'}${l.startsAtGenesis ? ' from the genesis' : ''}${l.head ? `, head ${l.head.periodStart} ${l.head.status}` : ', no head given: newer periods would go unnoticed'}`,
    )
    .join('; ');
  $('summary').textContent =
    `Checked ${s.digests} digests, ${s.archives} archive chunks (${s.bytes.toLocaleString()} bytes), ${s.events} events, ${s.receipts} receipts. ${ledgers}.`;
  $('findings').replaceChildren(
    ...report.findings.map((f) =>
      el(
        'li',
        {},
        el('span', { class: 'finding-code', 'data-testid': 'finding' }, f.code),
        ` ${f.object}${f.eventId ? ` event ${f.eventId}` : ''}${f.eventIndex !== undefined ? ` #${f.eventIndex}` : ''}: ${f.message}`,
        ...(f.evidence
          ? [
              el(
                'div',
                { class: 'hash' },
                `expected ${f.evidence.expected ?? '-'} computed ${f.evidence.computed ?? '-'}`,
              ),
            ]
          : []),
      ),
    ),
  );
  drawStrip(periods);
  $('period').hidden = true;
  $('event').hidden = true;
  drawResources(resources);
}

$('save').addEventListener('click', () => {
  if (!lastReport) return;
  const url = URL.createObjectURL(
    new Blob([JSON.stringify(lastReport, null, 2)], { type: 'application/json' }),
  );
  const a = el('a', { href: url, download: 'auditseal-verify-report.json' });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
});

// ---------------------------------------------------------------------------------------------------
// Seeing: the strip, a period, an event

function drawStrip(periods: PeriodCell[]): void {
  const strip = $('strip');
  strip.replaceChildren();
  const max = Math.max(1, ...periods.map((p) => p.events ?? 0));
  let ledger = '';
  for (const p of periods) {
    if (p.ledger !== ledger) {
      ledger = p.ledger;
      strip.append(el('div', { class: 'ledger-name' }, `ledger ${ledger}`));
    }
    const kind = p.findings > 0 ? 'bad' : p.events === undefined ? 'gap' : p.events === 0 ? 'empty' : 'ok';
    const label = `${new Date(p.startMs).toISOString()} · ${p.events === undefined ? 'no digest' : `${p.events} event(s)`}${p.findings ? ` · ${p.findings} finding(s)` : ''}`;
    const cell = el('span', {
      class: `cell ${kind}`,
      title: label,
      'data-testid': 'period-cell',
      'data-kind': kind,
    });
    if (p.events) {
      const bar = el('span', { class: 'bar' });
      bar.style.height = `${Math.max(10, Math.round((100 * p.events) / max))}%`;
      cell.append(bar);
    }
    if (p.events !== undefined) {
      cell.addEventListener('click', () => {
        for (const c of strip.querySelectorAll('.selected')) c.classList.remove('selected');
        cell.classList.add('selected');
        void showPeriod(p);
      });
    }
    strip.append(cell);
  }
}

async function showPeriod(p: PeriodCell): Promise<void> {
  const r = await call({ type: 'period', ledger: p.ledger, startMs: p.startMs, seconds: p.seconds });
  if (r.type === 'error') return showError(r.message);
  if (r.type !== 'period') return;
  const d: PeriodDetail = r.detail;
  const box = $('period');
  box.hidden = false;
  $('event').hidden = true;
  const s = d.statement ?? {};
  const filters = ['actor', 'resource', 'action'].map((name) =>
    el('input', { placeholder: `filter by ${name}`, 'data-testid': `filter-${name}`, 'data-field': name }),
  ) as HTMLInputElement[];
  const tbody = el('tbody');
  const render = () => {
    const wanted = filters.map((f) => [f.dataset['field']!, f.value.trim().toLowerCase()] as const);
    const rows = d.events.filter((e) =>
      wanted.every(
        ([k, v]) =>
          v === '' ||
          String(e[k as 'actor'])
            .toLowerCase()
            .includes(v),
      ),
    );
    tbody.replaceChildren(
      ...rows.slice(0, 2000).map((e) => {
        const tr = el(
          'tr',
          { 'data-testid': 'event-row' },
          ...[e.index, e.receivedAt, e.actor, e.action, e.resource, e.id].map((v) => el('td', {}, String(v))),
        );
        tr.addEventListener('click', () => void showEvent(p, e.index));
        return tr;
      }),
    );
  };
  for (const f of filters) f.addEventListener('input', render);
  box.replaceChildren(
    el('h3', {}, `Period ${new Date(p.startMs).toISOString()} (${p.seconds} s), ledger ${p.ledger}`),
    el(
      'table',
      { 'data-testid': 'statement' },
      el(
        'tbody',
        {},
        ...[
          'sequence',
          'treeSize',
          'rootHash',
          'keyId',
          'previousStatementSha256',
          'digestKey',
          'digestSha256',
        ].map((k) => el('tr', {}, el('th', {}, k), el('td', { class: 'hash' }, String(s[k] ?? '-')))),
        el('tr', {}, el('th', {}, 'signer key'), el('td', { class: 'hash' }, String(s['keyId'] ?? '-'))),
        el('tr', {}, el('th', {}, 'chain link'), el('td', { 'data-testid': 'chain' }, d.chain)),
      ),
    ),
    ...(d.findings.length
      ? [
          el(
            'p',
            { class: 'bad-text' },
            `${d.findings.length} finding(s) in this period: ${[...new Set(d.findings.map((f) => f.code))].join(', ')}`,
          ),
        ]
      : []),
    el('h4', {}, `Events (${d.events.length})${d.note ? `: ${d.note}` : ''}`),
    el('div', { class: 'filters' }, ...filters),
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el('tr', {}, ...['#', 'received', 'actor', 'action', 'resource', 'id'].map((h) => el('th', {}, h))),
      ),
      tbody,
    ),
  );
  render();
}

async function showEvent(p: PeriodCell, index: number): Promise<void> {
  const r = await call({ type: 'event', ledger: p.ledger, startMs: p.startMs, seconds: p.seconds, index });
  if (r.type === 'error') return showError(r.message);
  if (r.type !== 'event') return;
  const d: EventDetail = r.detail;
  const box = $('event');
  box.hidden = false;
  let pretty = d.canonicalJson;
  try {
    pretty = JSON.stringify(JSON.parse(d.canonicalJson), null, 2);
  } catch {
    // Shown as stored.
  }
  box.replaceChildren(
    el('h3', {}, `Event #${d.index} of ${d.treeSize}`),
    el(
      'p',
      {},
      'Leaf hash SHA-256(0x00 || canonical bytes): ',
      el('span', { class: 'hash', 'data-testid': 'leaf-hash' }, d.leafHash),
    ),
    el('h4', {}, 'Audit path, step by step (RFC 9162 §2.1.3.2)'),
    el(
      'table',
      { 'data-testid': 'audit-path' },
      el(
        'thead',
        {},
        el('tr', {}, el('th', {}, 'step'), el('th', {}, 'sibling'), el('th', {}, 'hash so far')),
      ),
      el(
        'tbody',
        {},
        ...d.steps.map((s, i) =>
          el(
            'tr',
            {},
            el(
              'td',
              {},
              `${i + 1}: ${s.side === 'left' ? 'H(0x01 || sibling || hash)' : 'H(0x01 || hash || sibling)'}`,
            ),
            el('td', { class: 'hash' }, s.sibling),
            el('td', { class: 'hash' }, s.result),
          ),
        ),
      ),
    ),
    el(
      'p',
      { 'data-testid': 'path-result', class: d.ok ? 'ok-text' : 'bad-text' },
      d.ok
        ? `The path leads to the signed root ${d.signedRoot}.`
        : `The path leads to ${d.computedRoot}; the signed root is ${d.signedRoot}.`,
    ),
    el('h4', {}, 'Canonical JSON (as stored; shown indented)'),
    el('pre', { 'data-testid': 'event-json' }, pretty),
  );
}

// ---------------------------------------------------------------------------------------------------
// Seeing: resources with profile versions, a resource's timeline

function drawResources(resources: ResourceRow[]): void {
  $('resources-box').hidden = resources.length === 0;
  $('resource-view').hidden = true;
  $('resources').replaceChildren(
    ...resources.map((r) => {
      const state = r.verified
        ? 'verified'
        : `NOT VERIFIED: ${r.findings} finding(s)${r.sealed < r.versions ? `, ${r.versions - r.sealed} version(s) not sealed` : ''}`;
      const item = el(
        'li',
        {
          class: r.verified ? 'resource-row' : 'resource-row bad-text',
          'data-testid': 'resource-row',
          'data-resource': r.id,
          'data-verified': String(r.verified),
        },
        `${r.id} (${r.sealed} sealed version(s)) · `,
        el('span', { 'data-testid': 'resource-row-state' }, state),
      );
      item.addEventListener('click', async () => {
        for (const c of $('resources').querySelectorAll('.selected')) c.classList.remove('selected');
        item.classList.add('selected');
        const res = await call({ type: 'resource', id: r.id });
        if (res.type === 'error') return showError(res.message);
        if (res.type === 'resource') showResource(res.detail);
      });
      return item;
    }),
  );
}

/** One row of the merged timeline: a version or an event, by time. */
type TimelineRow =
  | { kind: 'version'; at: string; v: NonNullable<ResourceDetail['timeline']>['timeline'][number] }
  | { kind: 'event'; at: string; e: ResourceDetail['events'][number] };

function showResource(d: ResourceDetail): void {
  const box = $('resource-view');
  box.hidden = false;
  const t = d.timeline;
  const profileFindings = d.report.findings.filter((f) => f.code.startsWith('PROFILE_VERSION_'));
  const rows: TimelineRow[] = [
    ...(t?.timeline ?? []).map((v): TimelineRow => ({ kind: 'version', at: v.effectiveAt, v })),
    ...d.events.map((e): TimelineRow => ({ kind: 'event', at: e.receivedAt, e })),
  ].sort((a, b) =>
    a.at !== b.at ? (a.at < b.at ? -1 : 1) : a.kind === b.kind ? 0 : a.kind === 'version' ? -1 : 1,
  );
  const body = el('tbody');
  for (const row of rows) {
    if (row.kind === 'version') {
      const v = row.v;
      const diff =
        v.diff.from === null
          ? 'first version found'
          : v.diff.patch.length === 0
            ? `no change from version ${v.diff.from}`
            : v.diff.patch.map((op) => JSON.stringify(op)).join('\n');
      body.append(
        el(
          'tr',
          { class: v.verified ? 'version' : 'version bad-row', 'data-testid': 'timeline-version' },
          el('td', {}, v.effectiveAt),
          el('td', { 'data-testid': 'version-n' }, `version ${v.n}${v.tombstone ? ' (deleted)' : ''}`),
          el('td', {}, v.verified ? 'verified' : v.sealed ? 'finding' : 'not sealed'),
          el('td', {}, v.source),
          el('td', { class: 'hash' }, v.hash),
          el(
            'td',
            {},
            el('pre', { 'data-testid': 'version-diff' }, diff),
            ...(v.diff.notCompared.length
              ? [el('div', { class: 'note' }, `not compared: ${v.diff.notCompared.join(', ')}`)]
              : []),
          ),
        ),
      );
    } else {
      const e = row.e;
      // Whether the verifier established the event as sealed evidence, and if not, why.
      const tr = el(
        'tr',
        {
          class: e.verified ? 'touch' : 'touch bad-row',
          'data-testid': 'timeline-event',
          'data-verified': String(e.verified),
        },
        el('td', {}, e.receivedAt),
        el(
          'td',
          {},
          'event ',
          el(
            'span',
            { 'data-testid': 'event-state', class: e.verified ? 'ok-text' : 'bad-text' },
            e.verified ? 'verified' : `NOT VERIFIED: ${e.reason ?? ''}`,
          ),
        ),
        el('td', {}, `#${e.index} of ${new Date(e.startMs).toISOString()}`),
        el('td', {}, e.actor),
        el('td', {}, e.action),
        el('td', { class: 'hash' }, e.id),
      );
      tr.addEventListener('click', async () => {
        await showEvent({ ledger: e.ledger, startMs: e.startMs, seconds: e.seconds, findings: 0 }, e.index);
        $('event').scrollIntoView();
      });
      body.append(tr);
    }
  }
  const verdict = t === undefined ? 'no versions found' : t.verified ? 'VERIFIED' : 'NOT VERIFIED';
  box.replaceChildren(
    el('h3', {}, `Resource ${t?.resourceId ?? ''}`),
    el(
      'p',
      {},
      'Chain: ',
      el(
        'strong',
        { 'data-testid': 'resource-verdict', class: t?.verified ? 'ok-text' : 'bad-text' },
        verdict,
      ),
      t
        ? ` · ${t.versions} version(s) in ledger(s) ${t.ledgers.join(', ')}${t.head ? `, head version ${t.head.n}` : ''}`
        : '',
    ),
    el(
      'p',
      {
        'data-testid': 'resource-events-summary',
        class: d.verified === d.found ? '' : 'bad-text',
      },
      d.found === 0
        ? 'No event names it.'
        : `Events that name it: ${d.verified} of ${d.found} event(s) verified${d.verified === d.found ? '' : `, ${d.found - d.verified} NOT VERIFIED (no trusted digest commits to them, or findings name them)`}.`,
    ),
    el(
      'ol',
      { 'data-testid': 'resource-findings' },
      ...profileFindings.map((f) =>
        el(
          'li',
          {},
          el('span', { class: 'finding-code', 'data-testid': 'resource-finding' }, f.code),
          ` ${f.object}${f.eventIndex !== undefined ? ` #${f.eventIndex}` : ''}: ${f.message}`,
        ),
      ),
    ),
    ...(d.note ? [el('p', { class: 'note' }, d.note)] : []),
    el(
      'table',
      { 'data-testid': 'resource-timeline' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...['time', 'what', 'status / where', 'source / actor', 'hash / action', 'diff / id'].map((h) =>
            el('th', {}, h),
          ),
        ),
      ),
      body,
    ),
  );
}

// ---------------------------------------------------------------------------------------------------
// Receipts and proofs

for (const kind of ['receipt', 'proof'] as const) {
  $<HTMLInputElement>(kind).addEventListener('change', async (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (!file) return;
    const out = $('file-check');
    if (trustedPems().length === 0) {
      out.textContent = 'Choose the trusted key files first.';
      return;
    }
    const r = await call({ type: kind, text: await file.text(), trustedPems: trustedPems() });
    if (r.type === 'error') return showError(r.message);
    if (r.type !== 'check') return;
    out.className = r.ok ? 'ok-text' : 'bad-text';
    out.textContent = r.ok ? `${kind} VALID: ${r.message}` : `${kind} INVALID (${r.code}): ${r.message}`;
  });
}

if (source) {
  $('folder-summary').textContent = `the folder served by auditseal ui (${servedBase})`;
  void listFolderKeys();
}
