import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { baseName, expandPath, relativeLabel, uriToPath } from '../src/paths';

describe('paths', () => {
  it('turns file URIs into paths', () => {
    assert.equal(uriToPath('file:///home/dev/a%20b/c.py'), '/home/dev/a b/c.py');
    assert.equal(uriToPath('file:///c%3A/Users/x/app.py'), 'c:\\Users\\x\\app.py');
    assert.equal(uriToPath('file://server/share/x.py'), '//server/share/x.py');
    assert.equal(uriToPath('untitled:Untitled-1'), 'untitled:Untitled-1');
  });

  it('labels a file relative to the innermost folder that contains it', () => {
    const folders = [
      { uri: 'file:///w', name: 'w' },
      { uri: 'file:///w/sub', name: 'sub' },
    ];
    assert.equal(relativeLabel('file:///w/sub/x.py', folders), 'sub/x.py');
    assert.equal(relativeLabel('file:///w/y.py', folders), 'w/y.py');
    assert.equal(relativeLabel('file:///w/y.py', [folders[0]!]), 'y.py');
    assert.equal(relativeLabel('file:///wx/y.py', [folders[0]!]), '/wx/y.py');
    assert.equal(relativeLabel('file:///w/a%20b.py', [{ uri: 'file:///w/', name: 'w' }]), 'a b.py');
  });

  it('takes the last segment of a URI', () => {
    assert.equal(baseName('file:///a/b/c.py'), 'c.py');
    assert.equal(baseName('file:///a/b/'), 'b');
  });

  it('expands ~, ${userHome}, ${workspaceFolder} and ${env:X}, leaving others alone', () => {
    const ctx = { home: '/h', workspaceFolder: '/w', env: { X: 'x' } };
    assert.equal(expandPath('~/a', ctx), '/h/a');
    assert.equal(expandPath('~', ctx), '/h');
    assert.equal(expandPath('a~/b', ctx), 'a~/b');
    assert.equal(expandPath('${userHome}/${workspaceFolder}/${env:X}/${env:MISSING}/${config:y}', ctx), '/h//w/x//${config:y}');
    assert.equal(expandPath(' /p ', {}), '/p');
    assert.equal(expandPath('${workspaceFolder}/a', {}), '${workspaceFolder}/a');
  });
});
