/** Messages between the auditor's page and its verification worker. */
import type { Finding } from '../shared/verify/findings.ts';
import type { FolderKeyFile } from '../shared/verify/folder-keys.ts';
import type { VerifyProgress, VerifyReport } from '../shared/verify/verify-folder.ts';
import type { ResourceSummary, ResourceTimeline } from '../shared/verify/verify-profiles.ts';
import type { PathStep } from './audit-path.ts';
import type { PickedFile } from './browser-reader.ts';

export type FolderSource =
  | { readonly kind: 'files'; readonly files: PickedFile[] }
  | { readonly kind: 'served'; readonly base: string };

export interface VerifyRequest {
  readonly type: 'verify';
  readonly source: FolderSource;
  /** PEM texts of the key files the auditor chose, and of folder key files the auditor confirmed. */
  readonly trustedPems: string[];
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly deep: boolean;
  /** Bytes of a head file (`auditseal head --out`). */
  readonly head?: Uint8Array;
  /** `--resource`: check only this resource's profile chain, and report its verified timeline. */
  readonly resource?: string;
  /**
   * `--jobs`: Web Workers that check archive chunks (chunk-pool.ts); 1 checks them in the verification
   * worker itself. The report is the same either way.
   */
  readonly jobs: number;
}

export type Request =
  | VerifyRequest
  | { readonly type: 'folder-keys'; readonly source: FolderSource }
  | { readonly type: 'period'; readonly ledger: string; readonly startMs: number; readonly seconds: number }
  | {
      readonly type: 'event';
      readonly ledger: string;
      readonly startMs: number;
      readonly seconds: number;
      readonly index: number;
    }
  | { readonly type: 'resource'; readonly id: string }
  | { readonly type: 'receipt'; readonly text: string; readonly trustedPems: string[] }
  | { readonly type: 'proof'; readonly text: string; readonly trustedPems: string[] };

/** The report `auditseal verify --json` prints, with the folder's key files. */
export interface PageReport extends VerifyReport {
  readonly folderKeyFiles: FolderKeyFile[];
}

/** One period of the strip. */
export interface PeriodCell {
  readonly ledger: string;
  readonly startMs: number;
  readonly seconds: number;
  /** Undefined when no digest covers the period (a gap between digests). */
  readonly events?: number;
  readonly findings: number;
}

export interface PeriodDetail {
  readonly statement?: Record<string, unknown>;
  readonly statementText?: string;
  readonly chain: string;
  readonly findings: Finding[];
  readonly events: EventRow[];
  readonly note?: string;
}

export interface EventRow {
  readonly index: number;
  readonly id: string;
  readonly receivedAt: string;
  readonly actor: string;
  readonly action: string;
  readonly resource: string;
}

/**
 * A resource with profile versions in the folder, as the verifier established them (the report's
 * `resources` of verifyFolder with `listResources`): only resources with at least one sealed version.
 */
export type ResourceRow = ResourceSummary;

/** An event that names a resource, with where it sits (for the event view). */
export interface TouchingEvent extends EventRow {
  readonly ledger: string;
  readonly startMs: number;
  readonly seconds: number;
  /** As the verifier judged it (`resource.events.listed[].verified` of `verify --resource`). */
  readonly verified: boolean;
  /** Why it is not verified. */
  readonly reason?: string;
}

/** A resource's view: `verify --resource ID` on the folder, and the events that name the resource. */
export interface ResourceDetail {
  /** The report `auditseal verify --resource ID --json` prints for the same folder and options. */
  readonly report: PageReport;
  readonly timeline: ResourceTimeline | undefined;
  /** The events that name the resource, as listed by the verifier. */
  readonly events: TouchingEvent[];
  /** How many events name it in all, and how many of them are verified. */
  readonly found: number;
  readonly verified: number;
  readonly note?: string;
}

export interface EventDetail {
  readonly index: number;
  readonly canonicalJson: string;
  readonly leafHash: string;
  readonly treeSize: number;
  readonly steps: PathStep[];
  readonly computedRoot: string;
  readonly signedRoot: string;
  readonly coreRoot: string;
  readonly ok: boolean;
}

export type Response =
  | { readonly type: 'progress'; readonly progress: VerifyProgress }
  | {
      readonly type: 'report';
      readonly report: PageReport;
      readonly periods: PeriodCell[];
      readonly resources: ResourceRow[];
      /**
       * How the folder's files were read: by the read worker (ui/read-worker.ts), in the verification
       * worker (no read worker could start, or it failed), or over HTTP from `auditseal ui DIR`.
       */
      readonly reads: 'worker' | 'thread' | 'served';
      /** With `resource` in the request: that resource's view. */
      readonly resource?: ResourceDetail;
    }
  | { readonly type: 'resource'; readonly detail: ResourceDetail }
  | { readonly type: 'folder-keys'; readonly files: FolderKeyFile[]; readonly pems: Record<string, string> }
  | { readonly type: 'period'; readonly detail: PeriodDetail }
  | { readonly type: 'event'; readonly detail: EventDetail }
  | { readonly type: 'check'; readonly ok: boolean; readonly code?: string; readonly message: string }
  | { readonly type: 'error'; readonly message: string };
