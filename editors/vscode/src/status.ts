/**
 * The status bar item and the Show Status report, from `forge/status` answers and `$/progress`.
 * Pure: the extension feeds events in and draws what comes out.
 */

import type { FolderStatus, ProgressValue, StatusResult } from './protocol';

// ---------------------------------------------------------------------------------------------
// $/progress

export interface ProgressTask {
  token: string;
  title: string;
  message?: string;
  percentage?: number;
  /** When the last value for this token arrived (ms). */
  updatedAt: number;
}

/** The progress runs under way, by token, in the order they began. */
export type ProgressState = ReadonlyMap<string, ProgressTask>;

export const NO_PROGRESS: ProgressState = new Map();

/** The state after one `$/progress` value (a new map; the old one is left as it was). */
export function applyProgress(state: ProgressState, token: string | number, value: ProgressValue, now = Date.now()): ProgressState {
  const key = String(token);
  const next = new Map(state);
  switch (value.kind) {
    case 'begin':
      next.set(key, { token: key, title: value.title, message: value.message, percentage: clampPercent(value.percentage), updatedAt: now });
      break;
    case 'report': {
      const task = next.get(key);
      if (!task) break; // a report without a begin: ignore
      next.set(key, {
        ...task,
        message: value.message ?? task.message,
        percentage: clampPercent(value.percentage) ?? task.percentage,
        updatedAt: now,
      });
      break;
    }
    case 'end':
      next.delete(key);
      break;
  }
  return next;
}

/**
 * Drops progress that the server will evidently never end: once forge/status says nothing is
 * indexing and nothing is pending, a run that has been silent for `staleMs` is over (a server
 * whose index run fails may leave its progress without an `end`).
 */
export function pruneStaleProgress(state: ProgressState, status: StatusResult | undefined, now = Date.now(), staleMs = 3000): ProgressState {
  if (state.size === 0 || !status || status.state === 'indexing' || (status.live?.pendingUpdates ?? 0) > 0) return state;
  const next = new Map([...state].filter(([, task]) => now - task.updatedAt < staleMs));
  return next.size === state.size ? state : next;
}

function clampPercent(p: number | undefined): number | undefined {
  if (typeof p !== 'number' || Number.isNaN(p)) return undefined;
  return Math.max(0, Math.min(100, Math.round(p)));
}

// ---------------------------------------------------------------------------------------------
// Status bar

export type ClientPhase = 'starting' | 'running' | 'stopped' | 'failed';

export interface StatusInput {
  phase: ClientPhase;
  status?: StatusResult;
  progress: ProgressState;
  /** Why the client stopped or failed. */
  error?: string;
}

export interface StatusBarView {
  text: string;
  /** Markdown. */
  tooltip: string;
  /** Status bar background: `warning`/`error` use the theme's status bar colours. */
  severity: 'normal' | 'warning' | 'error';
  busy: boolean;
}

export function formatCount(n: number | null | undefined): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  return Math.round(n).toLocaleString('en-US');
}

function percent(rate: number | null | undefined): string {
  return typeof rate === 'number' ? `${(rate * 100).toFixed(1)}%` : '–';
}

function escapeMd(text: string): string {
  return text.replace(/[\\`*_[\]()<>|~]/g, (c) => `\\${c}`);
}

function folderName(folder: FolderStatus): string {
  const root = folder.root || folder.uri;
  const parts = root.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? root;
}

export function failedFolders(status: StatusResult | undefined): FolderStatus[] {
  return (status?.folders ?? []).filter((f) => f.state === 'failed');
}

/** The text (with codicons), tooltip and colour of the status bar item. */
export function statusBarView(input: StatusInput): StatusBarView {
  const { phase, status, progress } = input;
  const tasks = [...progress.values()];
  const details = status ? statusTooltip(status) : '';

  if (phase === 'failed' || phase === 'stopped') {
    return {
      text: phase === 'failed' ? '$(error) Forge' : '$(circle-slash) Forge',
      tooltip: `**forge-lsp ${phase === 'failed' ? 'failed to start' : 'is not running'}**${input.error ? `\n\n${escapeMd(input.error)}` : ''}\n\nClick to show the server's output.`,
      severity: phase === 'failed' ? 'error' : 'warning',
      busy: false,
    };
  }
  if (phase === 'starting') {
    return { text: '$(sync~spin) Forge: starting', tooltip: 'forge-lsp is starting…', severity: 'normal', busy: true };
  }

  if (tasks.length > 0) {
    const task = tasks[0]!;
    const pct = task.percentage !== undefined ? ` ${task.percentage}%` : '';
    const what = /rebuild/i.test(task.title) ? 'rebuilding' : /index/i.test(task.title) ? 'indexing' : 'updating';
    const lines = tasks.map(
      (t) => `- ${escapeMd(t.title)}${t.message ? `: ${escapeMd(t.message)}` : ''}${t.percentage !== undefined ? ` (${t.percentage}%)` : ''}`,
    );
    return {
      text: `$(sync~spin) Forge: ${what}${pct}`,
      tooltip: `**forge-lsp is ${what}**\n\n${lines.join('\n')}\n\nAnswers come from the last committed graph until it is done.${details ? `\n\n---\n\n${details}` : ''}`,
      severity: 'normal',
      busy: true,
    };
  }

  if (!status) {
    return { text: '$(database) Forge', tooltip: 'forge-lsp is running. Click for its status.', severity: 'normal', busy: false };
  }

  const failed = failedFolders(status);
  if (failed.length > 0) {
    return {
      text: `$(warning) Forge: index failed`,
      tooltip: `**Indexing failed** in ${failed.map((f) => escapeMd(folderName(f))).join(', ')}\n\n${failed
        .map((f) => `- ${escapeMd(folderName(f))}: ${escapeMd(f.error ?? 'unknown error')}`)
        .join('\n')}\n\n---\n\n${details}`,
      severity: 'warning',
      busy: false,
    };
  }
  if (status.state === 'indexing') {
    const pending = status.pendingFiles > 0 ? ` (${formatCount(status.pendingFiles)} files to go)` : '';
    return {
      text: `$(sync~spin) Forge: indexing${status.pendingFiles > 0 ? ` (${formatCount(status.pendingFiles)} left)` : ''}`,
      tooltip: `**forge-lsp is indexing**${pending}\n\n${details}`,
      severity: 'normal',
      busy: true,
    };
  }
  const pendingUpdates = status.live?.pendingUpdates ?? 0;
  if (pendingUpdates > 0) {
    return {
      text: `$(sync~spin) Forge: updating ${formatCount(pendingUpdates)}`,
      tooltip: `**forge-lsp is applying ${formatCount(pendingUpdates)} change(s)**\n\n${details}`,
      severity: 'normal',
      busy: true,
    };
  }
  return {
    text: `$(database) Forge: ${formatCount(status.files)} files`,
    tooltip: `**forge-lsp is ready**\n\n${details}`,
    severity: 'normal',
    busy: false,
  };
}

/** A compact Markdown table of the graph's figures. */
export function statusTooltip(status: StatusResult): string {
  const rows: [string, string][] = [
    ['State', status.state + (status.partial ? ' (answers may be incomplete)' : '')],
    ['Files', formatCount(status.files)],
    ['Symbols', formatCount(status.symbols)],
    ['References', formatCount(status.references)],
  ];
  if (status.pendingFiles > 0) rows.push(['Files to parse', formatCount(status.pendingFiles)]);
  if (typeof status.lastIndexSeconds === 'number') rows.push(['Last index', `${status.lastIndexSeconds.toFixed(2)} s`]);
  if (status.live) rows.push(['Pending updates', formatCount(status.live.pendingUpdates)]);
  if (status.cache) rows.push(['Cache hit rate', percent(status.cache.hitRate)]);
  const table = ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${escapeMd(v)} |`)].join('\n');
  const folders = status.folders ?? [];
  const folderLines =
    folders.length > 1
      ? '\n\n' + folders.map((f) => `- **${escapeMd(folderName(f))}**: ${escapeMd(f.state)}, ${formatCount(f.files)} files`).join('\n')
      : '';
  return `${table}${folderLines}\n\nforge-lsp ${escapeMd(status.version ?? '')}`;
}

// ---------------------------------------------------------------------------------------------
// Show Status

function ms(stats: { p50: number | null; p95: number | null; count: number } | undefined): string {
  if (!stats || stats.count === 0 || stats.p50 === null) return '–';
  return `p50 ${stats.p50} ms · p95 ${stats.p95 ?? '–'} ms (${formatCount(stats.count)})`;
}

/** The full report shown by *Forge: Show Status* (Markdown). */
export function statusReport(status: StatusResult, serverCommand?: string): string {
  const lines: string[] = [];
  lines.push(`# forge-lsp ${status.version ?? ''}`.trimEnd(), '');
  lines.push(`- **State:** ${status.state}${status.partial ? ' (answers may be incomplete)' : ''}`);
  lines.push(`- **Graph:** ${formatCount(status.files)} files, ${formatCount(status.symbols)} symbols, ${formatCount(status.references)} references`);
  if (status.pendingFiles > 0) lines.push(`- **Files still to parse:** ${formatCount(status.pendingFiles)}`);
  if (typeof status.lastIndexSeconds === 'number') lines.push(`- **Slowest last index:** ${status.lastIndexSeconds.toFixed(2)} s`);
  if (status.positionEncoding) lines.push(`- **Position encoding:** ${status.positionEncoding}`);
  if (typeof status.includeProbable === 'boolean') lines.push(`- **Probable results:** ${status.includeProbable ? 'on' : 'off'}`);
  if (status.requests) {
    lines.push(`- **Requests:** ${formatCount(status.requests.requests)} (${formatCount(status.requests.cancelled)} cancelled, ${formatCount(status.requests.errors)} errors)`);
  }
  if (status.live) {
    lines.push(
      `- **Live updates:** ${formatCount(status.live.updates)} applied, ${formatCount(status.live.pendingUpdates)} pending, ` +
        `${formatCount(status.live.reresolvedFiles)} files re-resolved, ${formatCount(status.live.interfaceChanges)} interface changes`,
    );
  }
  if (status.cache) {
    lines.push(
      `- **Query cache:** ${percent(status.cache.hitRate)} hits (${formatCount(status.cache.hits)} hits, ${formatCount(status.cache.misses)} misses, ` +
        `${formatCount(status.cache.size)} answers)`,
    );
  }
  if (serverCommand) lines.push(`- **Server command:** \`${serverCommand}\``);

  for (const folder of status.folders ?? []) {
    lines.push('', `## ${folderName(folder)}`, '');
    lines.push(`- **Folder:** ${folder.root}`);
    lines.push(`- **Database:** ${folder.db}`);
    lines.push(`- **State:** ${folder.state}${folder.error ? ` — ${folder.error}` : ''}`);
    lines.push(
      `- **Graph:** ${formatCount(folder.files)} files, ${formatCount(folder.symbols)} symbols, ${formatCount(folder.references)} references` +
        (typeof folder.resolvedPercent === 'number' ? `, ${folder.resolvedPercent}% of references resolved` : ''),
    );
    if (typeof folder.lastIndexSeconds === 'number') {
      const when = typeof folder.lastIndexTime === 'number' ? ` at ${new Date(folder.lastIndexTime * 1000).toISOString()}` : '';
      lines.push(`- **Last index:** ${folder.lastIndexSeconds.toFixed(2)} s${when} (${formatCount(folder.indexRuns)} runs)`);
    }
    const skipped = Object.entries(folder.skipped ?? {});
    if (skipped.length > 0) lines.push(`- **Skipped:** ${skipped.map(([why, n]) => `${formatCount(n)} ${why}`).join(', ')}`);
    if (folder.warnings) lines.push(`- **Warnings:** ${formatCount(folder.warnings)}`);
    const live = folder.live;
    if (live) {
      lines.push(`- **Watcher:** ${live.watcher ?? '–'} (${formatCount(live.watcherEvents)} events, ${formatCount(live.rescans)} rescans)`);
      lines.push(`- **Open documents:** ${formatCount(live.openDocuments)}; pending updates: ${formatCount(live.pendingUpdates)}`);
      if ((live.pendingPaths ?? []).length > 0) lines.push(`- **Pending:** ${(live.pendingPaths ?? []).join(', ')}`);
      lines.push(`- **Update latency:** ${ms(live.updateLatencyMs)}`);
      lines.push(`- **Per-file processing:** ${ms(live.fileProcessingMs)}`);
      if (live.errors) lines.push(`- **Update errors:** ${formatCount(live.errors)}`);
    }
    if (folder.cache) {
      lines.push(
        `- **Cache:** ${formatCount(folder.cache.size)} / ${formatCount(folder.cache.maxSize)} answers, hit rate ${percent(folder.cache.hitRate)}, ` +
          `${formatCount(folder.cache.evictions)} evictions, ${formatCount(folder.cache.invalidated)} invalidated`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

/** How often to ask for forge/status: often while something is moving, rarely when idle. */
export function pollInterval(input: StatusInput): number | undefined {
  if (input.phase !== 'running') return undefined;
  if (input.progress.size > 0) return 1000;
  if (!input.status || input.status.state === 'indexing' || (input.status.live?.pendingUpdates ?? 0) > 0) return 1000;
  return 15000;
}

// ---------------------------------------------------------------------------------------------
// Reindex

/** What to tell the user about a `forge/reindex` answer: done only if every folder is ready. */
export function reindexOutcome(status: StatusResult): { ok: boolean; message: string } {
  const notReady = (status.folders ?? []).filter((f) => f.state !== 'ready');
  if (notReady.length === 0) {
    return {
      ok: true,
      message: `Forge: reindexed — ${formatCount(status.files)} files, ${formatCount(status.symbols)} symbols, ${formatCount(status.references)} references.`,
    };
  }
  const why = notReady.map((f) => `${folderName(f)}: ${f.state}${f.error ? ` (${f.error})` : ''}`).join('; ');
  return { ok: false, message: `Forge: the reindex did not complete — ${why}. See "Forge: Show Server Output".` };
}
