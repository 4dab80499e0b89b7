import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { commandLine, describeStartFailure, resolveServerCommand, RestartPolicy, venvCandidates } from '../src/server';

const posix = { platform: 'linux', home: '/home/me', workspaceFolders: ['/work/app'] };

describe('resolveServerCommand', () => {
  it('runs forge-lsp serve from PATH by default', () => {
    assert.deepEqual(resolveServerCommand({}, posix), {
      command: 'forge-lsp',
      args: ['serve'],
      options: { cwd: '/work/app' },
      source: 'path',
    });
  });

  it('runs an interpreter as python -m forge_lsp serve', () => {
    const cmd = resolveServerCommand({ pythonPath: '/opt/py/bin/python3' }, posix);
    assert.equal(cmd.command, '/opt/py/bin/python3');
    assert.deepEqual(cmd.args, ['-m', 'forge_lsp', 'serve']);
    assert.equal(cmd.source, 'pythonPath');
  });

  it('prefers the executable over the interpreter, and appends serverArgs after serve', () => {
    const cmd = resolveServerCommand(
      { serverPath: '~/bin/forge-lsp', pythonPath: '/usr/bin/python3', serverArgs: ['--log-file', '${workspaceFolder}/forge.log'] },
      posix,
    );
    assert.deepEqual([cmd.command, ...cmd.args], ['/home/me/bin/forge-lsp', 'serve', '--log-file', '/work/app/forge.log']);
    assert.equal(cmd.source, 'serverPath');
    const py = resolveServerCommand({ pythonPath: 'python3', serverArgs: ['--log-level', 'debug'] }, posix);
    assert.deepEqual(py.args, ['-m', 'forge_lsp', 'serve', '--log-level', 'debug']);
  });

  it('treats empty and null paths as not set', () => {
    assert.equal(resolveServerCommand({ serverPath: '  ', pythonPath: null }, posix).source, 'path');
    assert.equal(resolveServerCommand({ serverPath: null, pythonPath: '' }, posix).source, 'path');
  });

  it('finds forge-lsp in the workspace .venv, then venv, when allowed to look', () => {
    const exists = (p: string) => p === '/work/app/venv/bin/forge-lsp';
    const cmd = resolveServerCommand({}, { ...posix, exists });
    assert.deepEqual([cmd.command, ...cmd.args, cmd.source], ['/work/app/venv/bin/forge-lsp', 'serve', 'workspaceVenv']);
    // No `exists` (an untrusted workspace): the workspace's programs are not looked for.
    assert.equal(resolveServerCommand({}, posix).source, 'path');
    // Settings win over the venv.
    assert.equal(resolveServerCommand({ pythonPath: '/usr/bin/python3' }, { ...posix, exists: () => true }).source, 'pythonPath');
  });

  it('knows where Windows virtual environments keep their scripts', () => {
    assert.deepEqual(venvCandidates('C:\\work\\app', 'win32'), ['C:\\work\\app\\.venv\\Scripts\\forge-lsp.exe', 'C:\\work\\app\\venv\\Scripts\\forge-lsp.exe']);
    assert.deepEqual(venvCandidates('/w', 'darwin'), ['/w/.venv/bin/forge-lsp', '/w/venv/bin/forge-lsp']);
  });

  it('has no cwd without a workspace folder', () => {
    assert.deepEqual(resolveServerCommand({}, { platform: 'linux', workspaceFolders: [] }).options, {});
  });

  it('expands ${env:NAME} and ${userHome}', () => {
    const cmd = resolveServerCommand({ pythonPath: '${env:VIRTUAL_ENV}/bin/python' }, { ...posix, env: { VIRTUAL_ENV: '/venvs/x' } });
    assert.equal(cmd.command, '/venvs/x/bin/python');
    assert.equal(resolveServerCommand({ serverPath: '${userHome}/f' }, posix).command, '/home/me/f');
  });
});

describe('commandLine and describeStartFailure', () => {
  it('quotes arguments with spaces', () => {
    assert.equal(commandLine(resolveServerCommand({ serverPath: '/My Tools/forge-lsp' }, posix)), '"/My Tools/forge-lsp" serve');
  });

  it('explains a missing program by where it came from', () => {
    const enoent = Object.assign(new Error('spawn forge-lsp ENOENT'), { code: 'ENOENT' });
    assert.match(describeStartFailure(enoent, resolveServerCommand({}, posix)), /not found on PATH.*pip install \/path\/to\/forge-lsp.*forge\.pythonPath/);
    assert.match(describeStartFailure(enoent, resolveServerCommand({ pythonPath: '/nope/python' }, posix)), /forge\.pythonPath "\/nope\/python" does not exist/);
    assert.match(describeStartFailure(enoent, resolveServerCommand({ serverPath: '/nope/forge-lsp' }, posix)), /forge\.serverPath "\/nope\/forge-lsp" does not exist/);
    assert.match(describeStartFailure(new Error('boom'), resolveServerCommand({}, posix)), /\(forge-lsp serve\): boom/);
    assert.match(describeStartFailure({ code: 'EACCES' }, resolveServerCommand({}, posix)), /not executable/);
  });

  it('explains a server that exits at once, pointing at pip for an interpreter', () => {
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    const py = describeStartFailure(epipe, resolveServerCommand({ pythonPath: '/usr/bin/python3' }, posix));
    assert.equal(
      py,
      'forge-lsp exited while starting (/usr/bin/python3 -m forge_lsp serve); its output is in "Forge: Show Server Output". ' +
        'Is forge_lsp installed in /usr/bin/python3? (/usr/bin/python3 -m pip install /path/to/forge-lsp)',
    );
    assert.match(describeStartFailure(new Error('Pending response rejected since connection got disposed'), resolveServerCommand({}, posix)), /exited while starting \(forge-lsp serve\)/);
  });
});

describe('RestartPolicy', () => {
  it('never restarts a server that did not finish starting', () => {
    assert.deepEqual(new RestartPolicy().onClosed(0, false), { restart: false });
  });

  it('restarts a crashed server up to 4 times in 3 minutes, then gives up with a message', () => {
    const policy = new RestartPolicy();
    for (let i = 0; i < 4; i++) assert.deepEqual(policy.onClosed(i * 1000, true), { restart: true });
    const fifth = policy.onClosed(5000, true);
    assert.equal(fifth.restart, false);
    assert.match(fifth.message!, /stopped 5 times in 3 minutes.*Forge: Restart Server/);
    // crashes spread over time are forgiven
    const slow = new RestartPolicy();
    for (let i = 0; i < 10; i++) assert.equal(slow.onClosed(i * 60_000, true).restart, true);
  });
});
