/**
 * A CPU profile of the auditor's page verifying a folder in Debian's Chromium: the page's main thread,
 * its verification worker and, with --jobs N above 1, its chunk workers, through the DevTools protocol
 * (Profiler.start/stop), written as .cpuprofile files (open them in Chromium's DevTools).
 *
 *   AUDITSEAL_UI_PROFILE=1 npm run build      (keeps function names in the page's bundle)
 *   node --import tsx bench/ui-profile.ts --folder DIR --key PUBLIC.pem --out DIR [--jobs N]
 *
 * Workers are reached with Target.setAutoAttach (non-flat mode: each message to a worker, or to a worker
 * of a worker, is wrapped in Target.sendMessageToTarget), so no change to the page is needed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CDPSession } from 'playwright-core';
import { launchChromium } from '../test/support/chromium.ts';
import { verifyInPage } from '../test/ui/page-driver.ts';
import { argValue } from './bench-args.ts';

const argv = process.argv.slice(2);
const folder = argValue(argv, 'folder');
const key = argValue(argv, 'key');
const out = argValue(argv, 'out');
const jobs = argValue(argv, 'jobs') ?? '1';
if (!folder || !key || !out) throw new Error('usage: --folder DIR --key PUBLIC.pem --out DIR [--jobs N]');
mkdirSync(out, { recursive: true });
const page = fileURLToPath(new URL('../dist/ui/auditseal.html', import.meta.url));

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
}

/** A worker target: the chain of session ids from the page down to it. */
type Route = string[];

class Workers {
  readonly routes: Route[] = [];
  readonly #waiting = new Map<number, (result: unknown) => void>();
  #nextId = 1_000_000;

  constructor(private readonly cdp: CDPSession) {
    cdp.on('Target.attachedToTarget', (event) => this.#attached([event.sessionId]));
    cdp.on('Target.receivedMessageFromTarget', (event) => this.#received([event.sessionId], event.message));
  }

  /** Sends `method` to the worker at `route`, wrapping it once per hop. */
  send(route: Route, method: string, params: object = {}): Promise<unknown> {
    const id = this.#nextId++;
    let message = JSON.stringify({ id, method, params });
    for (let hop = route.length - 1; hop >= 1; hop--) {
      message = JSON.stringify({
        id: this.#nextId++,
        method: 'Target.sendMessageToTarget',
        params: { sessionId: route[hop], message },
      });
    }
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      void this.cdp.send('Target.sendMessageToTarget', { sessionId: route[0]!, message });
    });
  }

  #attached(route: Route): void {
    this.routes.push(route);
    // Its own workers (the chunk workers of the verification worker) are attached through it.
    void this.send(route, 'Target.setAutoAttach', {
      autoAttach: true,
      waitForDebuggerOnStart: false,
      flatten: false,
    });
  }

  #received(route: Route, text: string): void {
    const message = JSON.parse(text) as Message;
    if (message.method === 'Target.attachedToTarget') {
      this.#attached([...route, (message.params as { sessionId: string }).sessionId]);
    } else if (message.method === 'Target.receivedMessageFromTarget') {
      const params = message.params as { sessionId: string; message: string };
      this.#received([...route, params.sessionId], params.message);
    } else if (message.id !== undefined) {
      this.#waiting.get(message.id)?.(message.result);
      this.#waiting.delete(message.id);
    }
  }
}

const browser = await launchChromium();
try {
  const tab = await browser.newPage({ acceptDownloads: true });
  const cdp = await tab.context().newCDPSession(tab);
  const workers = new Workers(cdp);
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  await tab.goto(`file://${page}`);
  await cdp.send('Profiler.enable');
  const profiling = new Set<string>();
  const startNew = async () => {
    for (const route of workers.routes) {
      const name = route.join('/');
      if (profiling.has(name)) continue;
      profiling.add(name);
      await workers.send(route, 'Profiler.enable');
      await workers.send(route, 'Profiler.start');
    }
  };
  // Chunk workers start after the click: look for new ones while the page verifies.
  const poll = setInterval(() => void startNew(), 50);
  const run = await verifyInPage(tab, {
    keyFiles: [key],
    folder,
    args: ['--jobs', jobs],
    onVerifyClick: () => {
      void cdp.send('Profiler.start');
      void startNew();
    },
  });
  clearInterval(poll);
  const main = await cdp.send('Profiler.stop');
  writeFileSync(join(out, 'page-main.cpuprofile'), JSON.stringify(main.profile));
  let n = 0;
  for (const route of workers.routes) {
    // A chunk worker ended with the verification is gone: its profile is lost (the pool closes them).
    const result = (await Promise.race([
      workers.send(route, 'Profiler.stop'),
      new Promise((resolve) => setTimeout(resolve, 2000)),
    ])) as { profile?: unknown } | undefined;
    if (result?.profile) writeFileSync(join(out, `worker-${n++}.cpuprofile`), JSON.stringify(result.profile));
    process.stderr.write(
      `worker ${route.join('/')}: ${result?.profile ? 'profile written' : 'no profile'}\n`,
    );
  }
  console.log(JSON.stringify({ verdict: run.verdict, seconds: run.seconds, workers: n }));
} finally {
  await browser.close();
}
