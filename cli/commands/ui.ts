/**
 * `auditseal ui`: the auditor's page (docs/UI.md). `--write FILE` writes the self-contained HTML file;
 * otherwise the page is served on 127.0.0.1 and opened in the default browser, with DIR (when given)
 * readable by the page through the same FolderReader `auditseal verify` uses.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { FolderReader, NotRegularObjectError } from '../../shared/verify/object-reader.ts';
import { UsageError } from '../errors.ts';

/** Largest read the page may ask of the served folder: above the verifier's own largest bound. */
export const MAX_SERVED_READ_BYTES = 256 * 1024 * 1024;
const MAX_PREFIX_CHARS = 1024;

/** The built page: beside the CLI bundle (dist/ui/), or dist/ui/ of the source tree. */
export function pageFile(): string {
  for (const candidate of ['../ui/auditseal.html', '../../dist/ui/auditseal.html']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new UsageError("the auditor's page is not built (dist/ui/auditseal.html): run `npm run build`");
}

export async function readPage(): Promise<string> {
  return readFile(pageFile(), 'utf8');
}

/** `auditseal ui --write FILE`. */
export async function runUiWrite(file: string): Promise<{ file: string; bytes: number }> {
  const html = await readPage();
  try {
    await writeFile(file, html);
  } catch (error) {
    throw new UsageError(`cannot write ${file}: ${(error as Error).message}`);
  }
  return { file, bytes: Buffer.byteLength(html) };
}

/** The page as served for a folder: its CSP lets it read (only) from this server. */
function servedPage(html: string, folderBase: string | undefined): string {
  if (!folderBase) return html;
  return html
    .replace(
      '<meta name="auditseal-folder" content="">',
      `<meta name="auditseal-folder" content="${folderBase}">`,
    )
    .replace("connect-src 'none'", "connect-src 'self'");
}

export interface UiServer {
  readonly url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: string | Buffer, type: string): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  });
  res.end(body);
}

/**
 * Serves the page (and DIR) on 127.0.0.1 under a random path, answering only requests whose Host is
 * that address (no DNS rebinding). Reads of DIR go through FolderReader: no link followed, no FIFO
 * opened, never more bytes than asked.
 */
export async function startUiServer(options: { dir?: string; port?: number }): Promise<UiServer> {
  if (options.dir !== undefined && !statSync(options.dir, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(`${options.dir} is not a folder`);
  const html = await readPage();
  const token = randomBytes(16).toString('hex');
  const base = `/${token}/`;
  const folderBase = options.dir !== undefined ? `${base}folder/` : undefined;
  const page = servedPage(html, folderBase);
  const reader = options.dir !== undefined ? new FolderReader(options.dir) : undefined;
  let host = '';

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.headers.host !== host) return send(res, 421, 'wrong host', 'text/plain');
    if (req.method !== 'GET') return send(res, 405, 'only GET', 'text/plain');
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (url.pathname === base) return send(res, 200, page, 'text/html; charset=utf-8');
    if (!reader || !folderBase) return send(res, 404, 'not found', 'text/plain');
    if (url.pathname === `${folderBase}list`) {
      const prefix = url.searchParams.get('prefix') ?? '';
      if (prefix.length > MAX_PREFIX_CHARS) return send(res, 400, 'prefix too long', 'text/plain');
      return send(res, 200, JSON.stringify(await reader.list(prefix)), 'application/json');
    }
    if (url.pathname === `${folderBase}object`) {
      const key = url.searchParams.get('key');
      const max = Number(url.searchParams.get('max'));
      if (key === null || !Number.isSafeInteger(max) || max < 0 || max > MAX_SERVED_READ_BYTES)
        return send(res, 400, 'key and max (bytes) are required', 'text/plain');
      try {
        const bytes = await reader.read(key, max);
        if (!bytes) return send(res, 404, 'absent', 'text/plain');
        return send(res, 200, bytes, 'application/octet-stream');
      } catch (error) {
        if (error instanceof NotRegularObjectError)
          return send(res, 409, JSON.stringify({ kind: error.kind }), 'application/json');
        throw error;
      }
    }
    return send(res, 404, 'not found', 'text/plain');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'internal error', 'text/plain');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  host = `127.0.0.1:${port}`;
  return {
    url: `http://${host}${base}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Opens a URL in the default browser; false when no opener could be started. */
export function openInBrowser(url: string): boolean {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}
