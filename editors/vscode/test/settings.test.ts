import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { explicitValue, impactRequestOptions, needsRestart, OPTION_SPECS, toInitializationOptions } from '../src/settings';

const reader = (values: Record<string, unknown>) => (key: string) => values[key];

describe('toInitializationOptions', () => {
  it('sends nothing when nothing is set (the server and pyproject.toml defaults apply)', () => {
    assert.deepEqual(toInitializationOptions(reader({})), { options: {}, problems: [] });
  });

  it('sends exactly the options that are set, under their LSP names, with their types', () => {
    const { options, problems } = toInitializationOptions(
      reader({
        dbPath: '.cache/forge.db',
        include: ['src/**'],
        exclude: ['migrations/**', ' generated '],
        maxFileSize: 1048576,
        jobs: 2,
        includeProbable: true,
        logLevel: 'debug',
        debounceMs: 0,
        freshnessTimeoutMs: 5000,
        cacheSize: 100,
        watchFiles: false,
        metricsLog: true,
      }),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(options, {
      dbPath: '.cache/forge.db',
      include: ['src/**'],
      exclude: ['migrations/**', 'generated'],
      maxFileSize: 1048576,
      jobs: 2,
      includeProbable: true,
      logLevel: 'debug',
      debounceMs: 0,
      freshnessTimeoutMs: 5000,
      cacheSize: 100,
      watchFiles: false,
      metricsLog: true,
    });
  });

  it('keeps false and 0, which are values, and treats null as not set', () => {
    const { options } = toInitializationOptions(reader({ watchFiles: false, debounceMs: 0, jobs: null, dbPath: null }));
    assert.deepEqual(options, { watchFiles: false, debounceMs: 0 });
  });

  it('leaves out values of the wrong type, saying why', () => {
    const { options, problems } = toInitializationOptions(
      reader({ jobs: 0, maxFileSize: 1.5, debounceMs: -1, include: 'src/**', exclude: [1], logLevel: 'verbose', watchFiles: 'yes', cacheSize: '10' }),
    );
    assert.deepEqual(options, {});
    assert.equal(problems.length, 8);
    assert.match(problems.join('\n'), /forge\.jobs should be an integer > 0, not 0/);
    assert.match(problems.join('\n'), /forge\.debounceMs should be an integer >= 0, not -1/);
    assert.match(problems.join('\n'), /forge\.logLevel should be one of error, warning, info, debug, not "verbose"/);
    assert.match(problems.join('\n'), /forge\.include should be a list of glob strings/);
  });

  it('passes the requests left to another server, and refuses what it cannot leave', () => {
    assert.deepEqual(toInitializationOptions(reader({ leaveToOtherServers: ['references', 'definition', 'references'] })).options, {
      leaveToOtherServers: ['references', 'definition'],
    });
    const bad = toInitializationOptions(reader({ leaveToOtherServers: ['hover'] }));
    assert.deepEqual(bad.options, {});
    assert.match(bad.problems.join('\n'), /forge\.leaveToOtherServers should be a list of references, definition, callHierarchy/);
  });

  it('expands ~ and ${workspaceFolder} in dbPath, and drops an empty one', () => {
    const ctx = { home: '/home/me', workspaceFolder: '/work/app' };
    assert.deepEqual(toInitializationOptions(reader({ dbPath: '~/graphs/app.db' }), ctx).options, { dbPath: '/home/me/graphs/app.db' });
    assert.deepEqual(toInitializationOptions(reader({ dbPath: '${workspaceFolder}/.forge/g.db' }), ctx).options, { dbPath: '/work/app/.forge/g.db' });
    assert.deepEqual(toInitializationOptions(reader({ dbPath: '  ' }), ctx).options, {});
  });

  it('covers every option of docs/lsp.md', () => {
    assert.deepEqual(
      OPTION_SPECS.map((s) => s.key),
      ['dbPath', 'include', 'exclude', 'maxFileSize', 'jobs', 'includeProbable', 'logLevel', 'debounceMs', 'freshnessTimeoutMs', 'cacheSize', 'watchFiles', 'metricsLog', 'leaveToOtherServers'],
    );
  });
});

describe('explicitValue', () => {
  it('prefers the most specific scope and ignores the default', () => {
    assert.equal(explicitValue({ defaultValue: 1 }), undefined);
    assert.equal(explicitValue({ defaultValue: 1, globalValue: 2 }), 2);
    assert.equal(explicitValue({ globalValue: 2, workspaceValue: 3 }), 3);
    assert.equal(explicitValue({ globalValue: 2, workspaceValue: 3, workspaceFolderValue: 4 }), 4);
    assert.equal(explicitValue({ globalValue: false }), false);
    assert.equal(explicitValue(undefined), undefined);
  });
});

describe('needsRestart', () => {
  it('is true for server and initialization settings, false for the impact view', () => {
    const affects = (changed: string) => (section: string) => section === changed;
    assert.ok(needsRestart(affects('forge.pythonPath')));
    assert.ok(needsRestart(affects('forge.exclude')));
    assert.ok(needsRestart(affects('forge.serverArgs')));
    assert.ok(!needsRestart(affects('forge.impact.depth')));
    assert.ok(!needsRestart(affects('forge.trace.server')));
  });
});

describe('impactRequestOptions', () => {
  it('passes valid values and drops invalid ones', () => {
    assert.deepEqual(impactRequestOptions(reader({ 'impact.depth': 5, 'impact.maxNodes': 200, 'impact.includeProbable': true })), {
      depth: 5,
      maxNodes: 200,
      includeProbable: true,
    });
    assert.deepEqual(impactRequestOptions(reader({ 'impact.depth': 0, 'impact.maxNodes': 1e6 + 1, 'impact.includeProbable': null })), {});
    assert.deepEqual(impactRequestOptions(reader({ 'impact.depth': 10001, 'impact.maxNodes': 0 })), {});
    assert.deepEqual(impactRequestOptions(reader({ 'impact.depth': 2.5 })), {});
    // the limits the server accepts
    assert.deepEqual(impactRequestOptions(reader({ 'impact.depth': 10000, 'impact.maxNodes': 1e6 })), { depth: 10000, maxNodes: 1e6 });
  });

  it('sends no depth when it is unset or null: the walk goes on to a fixed point', () => {
    assert.deepEqual(impactRequestOptions(reader({})), {});
    assert.deepEqual(impactRequestOptions(reader({ 'impact.depth': null, 'impact.maxNodes': 10000 })), { maxNodes: 10000 });
    assert.ok(!('depth' in impactRequestOptions(reader({ 'impact.depth': null }))));
  });
});
