import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import manifest from '../package.json';
import { LEFT_BY_SUGGESTION, serverToLeaveTo } from '../src/otherServers';

describe('serverToLeaveTo', () => {
  const has = (...ids: string[]) => (id: string) => ids.includes(id);

  it('names the first other Python server installed', () => {
    assert.equal(serverToLeaveTo(has('ms-python.vscode-pylance'), false, false), 'Pylance');
    assert.equal(serverToLeaveTo(has('detachhead.basedpyright', 'ms-pyright.pyright'), false, false), 'basedpyright');
  });

  it('asks nothing without one, once the user chose, or after "Don\'t ask again"', () => {
    assert.equal(serverToLeaveTo(has(), false, false), undefined);
    assert.equal(serverToLeaveTo(has('ms-python.vscode-pylance'), true, false), undefined);
    assert.equal(serverToLeaveTo(has('ms-python.vscode-pylance'), false, true), undefined);
  });

  it('sets only values the setting accepts', () => {
    const prop = manifest.contributes.configuration.properties['forge.leaveToOtherServers'] as { items: { enum: string[] } };
    for (const name of LEFT_BY_SUGGESTION) assert.ok(prop.items.enum.includes(name), name);
  });
});
