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

/** One use: `from` (the dependent) uses `to`. */
export interface Edge {
  from: number;
  to: number;
  kind: string;
  confidence: Confidence;
  location: Location;
}

export interface Dependent {
  symbol: Item;
  depth: number;
  confidence: Confidence;
  isTest: boolean;
  /** From the root outwards: path[0].to is a root id; the last edge's `from` is this symbol. */
  path: Edge[];
}

export interface ImpactFile {
  uri: string;
  dependents: Dependent[];
}

export interface ImpactParams {
  textDocument: { uri: string };
  position?: Position;
  depth?: number;
  includeProbable?: boolean;
  maxNodes?: number;
}

export interface ImpactResult {
  target?: { uri: string; kind: 'symbol' | 'file'; position?: Position };
  root: Item | null;
  roots: Item[];
  depth: number;
  truncated: boolean;
  count: number;
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
