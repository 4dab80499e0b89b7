import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { applyProgress, formatCount, NO_PROGRESS, pollInterval, pruneStaleProgress, reindexOutcome, statusBarView, statusReport, type ProgressState } from '../src/status';
import { fixtures } from './helpers';

function progressOf(...steps: [string, Parameters<typeof applyProgress>[2]][]): ProgressState {
  return steps.reduce((state, [token, value]) => applyProgress(state, token, value), NO_PROGRESS);
}

describe('applyProgress', () => {
  it('follows begin, report and end, one entry per token', () => {
    let s = applyProgress(NO_PROGRESS, 'a', { kind: 'begin', title: 'forge-lsp: indexing demo', message: 'looking for files', percentage: 0 }, 1000);
    assert.deepEqual([...s.values()], [{ token: 'a', title: 'forge-lsp: indexing demo', message: 'looking for files', percentage: 0, updatedAt: 1000 }]);
    s = applyProgress(s, 'a', { kind: 'report', message: '1/5 files', percentage: 20 }, 1500);
    assert.equal(s.get('a')!.percentage, 20);
    assert.equal(s.get('a')!.updatedAt, 1500);
    assert.equal(s.get('a')!.message, '1/5 files');
    s = applyProgress(s, 'a', { kind: 'report', percentage: 140 });
    assert.equal(s.get('a')!.percentage, 100);
    assert.equal(s.get('a')!.message, '1/5 files');
    s = applyProgress(s, 'a', { kind: 'end', message: 'done' });
    assert.equal(s.size, 0);
  });

  it('never changes the state it was given, and ignores a report without a begin', () => {
    const before = progressOf(['a', { kind: 'begin', title: 't' }]);
    const after = applyProgress(before, 'a', { kind: 'end' });
    assert.equal(before.size, 1);
    assert.equal(after.size, 0);
    assert.equal(applyProgress(NO_PROGRESS, 7, { kind: 'report', percentage: 3 }).size, 0);
  });
});

describe('statusBarView', () => {
  it('shows indexing with the percentage while $/progress runs', () => {
    const progress = progressOf(
      ['t', { kind: 'begin', title: 'forge-lsp: indexing demo', message: 'looking for files', percentage: 0 }],
      ['t', { kind: 'report', message: '1/5 files', percentage: 20 }],
    );
    const view = statusBarView({ phase: 'running', progress, status: fixtures.statusIndexing() });
    assert.equal(view.text, '$(sync~spin) Forge: indexing 20%');
    assert.ok(view.busy);
    assert.match(view.tooltip, /forge-lsp: indexing demo: 1/);
    assert.match(view.tooltip, /5 files \(20%\)/);
  });

  it('says rebuilding during a reindex', () => {
    const progress = progressOf(['t', { kind: 'begin', title: 'forge-lsp: rebuilding demo', percentage: 40 }]);
    assert.equal(statusBarView({ phase: 'running', progress }).text, '$(sync~spin) Forge: rebuilding 40%');
  });

  it('shows the file count when ready, with the figures in the tooltip', () => {
    const view = statusBarView({ phase: 'running', progress: NO_PROGRESS, status: fixtures.statusReady() });
    assert.equal(view.text, '$(database) Forge: 5 files');
    assert.equal(view.severity, 'normal');
    assert.ok(!view.busy);
    assert.match(view.tooltip, /\| Symbols \| 25 \|/);
    assert.match(view.tooltip, /\| References \| 58 \|/);
    assert.match(view.tooltip, /\| Cache hit rate \| – \|/);
  });

  it('shows indexing from forge/status when no progress is reported', () => {
    const status = fixtures.statusIndexing();
    status.pendingFiles = 1234;
    const view = statusBarView({ phase: 'running', progress: NO_PROGRESS, status });
    assert.equal(view.text, '$(sync~spin) Forge: indexing (1,234 left)');
  });

  it('shows pending live updates', () => {
    const status = fixtures.statusReady();
    status.live!.pendingUpdates = 3;
    assert.equal(statusBarView({ phase: 'running', progress: NO_PROGRESS, status }).text, '$(sync~spin) Forge: updating 3');
  });

  it('warns about a folder whose index failed', () => {
    const status = fixtures.statusReady();
    status.folders[0]!.state = 'failed';
    status.folders[0]!.error = 'disk full';
    const view = statusBarView({ phase: 'running', progress: NO_PROGRESS, status });
    assert.equal(view.text, '$(warning) Forge: index failed');
    assert.equal(view.severity, 'warning');
    assert.match(view.tooltip, /demo: disk full/);
  });

  it('shows starting, stopped and failed clients', () => {
    assert.equal(statusBarView({ phase: 'starting', progress: NO_PROGRESS }).text, '$(sync~spin) Forge: starting');
    const failed = statusBarView({ phase: 'failed', progress: NO_PROGRESS, error: 'forge-lsp was not found on PATH' });
    assert.equal(failed.text, '$(error) Forge');
    assert.equal(failed.severity, 'error');
    assert.match(failed.tooltip, /not found on PATH/);
    assert.equal(statusBarView({ phase: 'stopped', progress: NO_PROGRESS }).severity, 'warning');
  });

  it('escapes Markdown in what the server sends', () => {
    const progress = progressOf(['t', { kind: 'begin', title: 'indexing [x](command:evil)', message: '*a*' }]);
    const view = statusBarView({ phase: 'running', progress });
    assert.ok(!view.tooltip.includes('[x](command:evil)'));
    assert.ok(view.tooltip.includes('\\[x\\]\\(command:evil\\)'));
  });
});

describe('statusReport', () => {
  it('reports the graph, the live updates, the cache and each folder', () => {
    const status = fixtures.statusReady();
    status.folders[0]!.skipped = { 'too large (>2097152 bytes)': 1 };
    const report = statusReport(status, 'forge-lsp serve');
    assert.match(report, /^# forge-lsp 0\.1\.0\n/);
    assert.match(report, /- \*\*State:\*\* ready\n/);
    assert.match(report, /- \*\*Graph:\*\* 5 files, 25 symbols, 58 references\n/);
    assert.match(report, /- \*\*Server command:\*\* `forge-lsp serve`/);
    assert.match(report, /## demo\n/);
    assert.match(report, /- \*\*Database:\*\* \/home\/dev\/demo\/\.forge\/graph\.db/);
    assert.match(report, /84\.5% of references resolved/);
    assert.match(report, /- \*\*Watcher:\*\* running/);
    assert.match(report, /- \*\*Skipped:\*\* 1 too large/);
    assert.match(report, /- \*\*Update latency:\*\* –/);
  });

  it('copes with a minimal answer (clients must ignore what they do not know, and not need what is new)', () => {
    const minimal = { version: '9', state: 'ready', partial: false, files: 1, symbols: 2, references: 3, pendingFiles: 0, folders: [] };
    assert.match(statusReport(minimal), /1 files, 2 symbols, 3 references/);
    assert.equal(statusBarView({ phase: 'running', progress: NO_PROGRESS, status: minimal }).text, '$(database) Forge: 1 files');
  });
});

describe('pollInterval and formatCount', () => {
  it('polls fast while busy, slowly when idle, never when not running', () => {
    assert.equal(pollInterval({ phase: 'running', progress: NO_PROGRESS, status: fixtures.statusIndexing() }), 1000);
    assert.equal(pollInterval({ phase: 'running', progress: NO_PROGRESS, status: fixtures.statusReady() }), 15000);
    assert.equal(pollInterval({ phase: 'stopped', progress: NO_PROGRESS }), undefined);
  });

  it('formats counts with separators', () => {
    assert.equal(formatCount(377897), '377,897');
    assert.equal(formatCount(undefined), '–');
  });
});

describe('pruneStaleProgress', () => {
  const open = applyProgress(NO_PROGRESS, 't', { kind: 'begin', title: 'forge-lsp: indexing demo', percentage: 100 }, 10_000);

  it('drops a run the server never ended once forge/status says nothing is indexing', () => {
    // What forge-lsp does when an index run fails: begin, reports, no end; the folder is "failed".
    const status = fixtures.statusReady();
    status.folders[0]!.state = 'failed';
    status.folders[0]!.error = "TypeError: 'int' object is not subscriptable";
    const pruned = pruneStaleProgress(open, status, 20_000);
    assert.equal(pruned.size, 0);
    assert.equal(statusBarView({ phase: 'running', progress: pruned, status }).text, '$(warning) Forge: index failed');
  });

  it('keeps it while it is recent, or while the server is still indexing or updating', () => {
    assert.equal(pruneStaleProgress(open, fixtures.statusReady(), 11_000), open);
    assert.equal(pruneStaleProgress(open, fixtures.statusIndexing(), 60_000), open);
    const updating = fixtures.statusReady();
    updating.live!.pendingUpdates = 5;
    assert.equal(pruneStaleProgress(open, updating, 60_000), open);
    assert.equal(pruneStaleProgress(open, undefined, 60_000), open);
  });
});

describe('reindexOutcome', () => {
  it('reports the new graph when every folder is ready', () => {
    assert.deepEqual(reindexOutcome(fixtures.statusReady()), { ok: true, message: 'Forge: reindexed — 5 files, 25 symbols, 58 references.' });
  });

  it('reports a folder that is not ready, with its error', () => {
    const failed = fixtures.statusReady();
    failed.folders[0]!.state = 'failed';
    failed.folders[0]!.error = 'disk full';
    assert.deepEqual(reindexOutcome(failed), { ok: false, message: 'Forge: the reindex did not complete — demo: failed (disk full). See "Forge: Show Server Output".' });
    // What forge-lsp answered when the rebuild raised: still "indexing", no error, 0 files.
    const stuck = fixtures.statusIndexing();
    assert.equal(reindexOutcome(stuck).ok, false);
    assert.match(reindexOutcome(stuck).message, /demo: indexing\./);
  });
});
