/**
 * The shapes of forge-lsp's custom requests (docs/lsp.md, "Custom requests").
 *
 * Type-only: nothing here exists at run time, so every pure module can import it freely.
 * Clients must ignore fields they do not know, so every interface is open-ended in practice.
 */

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface Location {
  uri: string;
  range: Range;
}

export type SymbolKindName = 'module' | 'class' | 'function' | 'method' | 'variable' | 'field' | string;
export type Confidence = 'exact' | 'probable';

/** A graph symbol (`Item` in docs/lsp.md). */
export interface Item {
  id: number;
  name: string;
  qualname: string;
  kind: SymbolKindName;
  symbolKind?: number;
  detail?: string;
  uri: string;
  range: Range;
  selectionRange: Range;
}

/**
 * How `from` depends on `to`: a reference (call, read, write, attribute, decorate, inherit,
 * fixture) or one of the rules of what Python runs (construct: `C(...)` runs `C.__init__`;
 * protocol: `with`/`for`/`in`/`==` run a dunder; module: the file's module-level code binds it;
 * re-export; pytest's autouse fixtures, setUp/setup_method, a test class's own code: member).
 */
export type EdgeKind =
  | 'call'
  | 'read'
  | 'write'
  | 'attribute'
  | 'decorate'
  | 'inherit'
  | 'fixture'
  | 'construct'
  | 'protocol'
  | 'module'
  | 're-export'
  | 'autouse'
  | 'setup'
  | 'member'
  | string;

/** One use: `from` (the dependent) uses `to`. */
export interface Edge {
  from: number;
  to: number;
  kind: EdgeKind;
  confidence: Confidence;
  location: Location;
}

export interface Dependent {
  symbol: Item;
  depth: number;
  confidence: Confidence;
  isTest: boolean;
  /** The edges that reach it, from the root outwards: chain[0].to is a root id; the last edge's `from` is this symbol. */
  chain: Edge[];
}

export interface ImpactFile {
  uri: string;
  dependents: Dependent[];
}

export interface ImpactParams {
  textDocument: { uri: string };
  /** Anywhere inside a function or class means it; at module level, the whole file. */
  position?: Position;
  /** 1..10000; omitted or null: no limit (the walk goes on to a fixed point). */
  depth?: number | null;
  includeProbable?: boolean;
  /** 1..1000000 (server default 10000). */
  maxNodes?: number;
}

/** Why a walk stopped early: the depth it was asked for, or the node cap. */
export type TruncatedBy = 'depth' | 'nodes';

/** What the document's unsaved edits do to the symbol asked about. */
export interface PendingChange {
  change: 'body' | 'interface' | string;
  reason: string;
  /** Qualified names of the changed symbols. */
  symbols: string[];
  /** `body-only change: 4 tests reach it`, `signature changed: 17 callers in 6 files, 4 tests reach it`. */
  summary: string;
}

export interface ImpactResult {
  target?: { uri: string; kind: 'symbol' | 'file'; position?: Position };
  root: Item | null;
  roots: Item[];
  /** The depth asked for; null: unbounded. */
  depth: number | null;
  truncated: boolean;
  truncatedBy?: TruncatedBy | null;
  /** Reached nodes that were not expanded because the walk stopped early. */
  unexpanded?: number;
  count: number;
  exactCount?: number;
  probableCount?: number;
  /** null when the document has no unsaved edit touching the symbol. */
  pendingChange?: PendingChange | null;
  partial: boolean;
  pending?: string[];
  files: ImpactFile[];
  tests: Item[];
  testFiles: string[];
}

export interface LatencyStats {
  count: number;
  p50: number | null;
  p95: number | null;
  max: number | null;
}

export interface CacheStats {
  size: number;
  maxSize?: number;
  hits: number;
  misses: number;
  evictions: number;
  invalidated: number;
  hitRate: number | null;
}

export interface FolderLive {
  pendingUpdates: number;
  pendingPaths?: string[];
  openDocuments?: number;
  watcher?: string;
  watcherEvents?: number;
  rescans?: number;
  updates?: number;
  filesUpdated?: number;
  reresolvedFiles?: number;
  retargetedReferences?: number;
  interfaceChanges?: number;
  errors?: number;
  updateLatencyMs?: LatencyStats;
  fileProcessingMs?: LatencyStats;
  lastUpdate?: Record<string, unknown> | null;
}

export type FolderState = 'queued' | 'indexing' | 'ready' | 'failed' | string;

export interface FolderStatus {
  uri: string;
  root: string;
  db: string;
  state: FolderState;
  files: number;
  symbols: number;
  references: number;
  resolvedPercent?: number | null;
  pendingFiles: number;
  lastIndexSeconds?: number | null;
  lastIndexTime?: number | null;
  indexRuns?: number;
  skipped?: Record<string, number>;
  warnings?: number;
  error?: string | null;
  live?: FolderLive;
  cache?: CacheStats;
}

export interface StatusResult {
  version: string;
  state: 'indexing' | 'ready' | string;
  partial: boolean;
  files: number;
  symbols: number;
  references: number;
  pendingFiles: number;
  lastIndexSeconds?: number | null;
  positionEncoding?: string;
  includeProbable?: boolean;
  requests?: { requests: number; cancelled: number; errors: number };
  live?: { pendingUpdates: number; updates?: number; reresolvedFiles?: number; interfaceChanges?: number };
  cache?: CacheStats;
  folders: FolderStatus[];
}

export interface ReindexParams {
  folder?: string;
}

/** `$/progress` values (LSP WorkDoneProgress). */
export interface ProgressBegin {
  kind: 'begin';
  title: string;
  cancellable?: boolean;
  message?: string;
  percentage?: number;
}
export interface ProgressReport {
  kind: 'report';
  cancellable?: boolean;
  message?: string;
  percentage?: number;
}
export interface ProgressEnd {
  kind: 'end';
  message?: string;
}
export type ProgressValue = ProgressBegin | ProgressReport | ProgressEnd;

export const Methods = {
  impact: 'forge/impact',
  status: 'forge/status',
  reindex: 'forge/reindex',
} as const;
