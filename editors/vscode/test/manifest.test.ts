/** package.json must stay in step with the code: settings, commands, views and the bundle. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import manifest from '../package.json';
import { LEAVABLE, MAX_IMPACT_DEPTH, MAX_IMPACT_NODES, OPTION_SPECS } from '../src/settings';

type Property = { type: string | string[]; default?: unknown; enum?: unknown[]; markdownDescription?: string; description?: string };
const properties = manifest.contributes.configuration.properties as Record<string, Property>;

const JSON_TYPES: Record<string, string> = {
  path: 'string',
  globs: 'array',
  positiveInt: 'integer',
  nonNegativeInt: 'integer',
  boolean: 'boolean',
  logLevel: 'string',
  features: 'array',
};

describe('package.json', () => {
  it('has one documented setting per initialization option, of the right type', () => {
    for (const spec of OPTION_SPECS) {
      const prop = properties[`forge.${spec.setting}`];
      assert.ok(prop, `forge.${spec.setting} is contributed`);
      const types = Array.isArray(prop.type) ? prop.type : [prop.type];
      assert.ok(types.includes(JSON_TYPES[spec.type]!), `forge.${spec.setting} has type ${JSON_TYPES[spec.type]}`);
      const text = prop.markdownDescription ?? prop.description ?? '';
      assert.ok(text.includes(`\`${spec.key}\``), `forge.${spec.setting} names the option \`${spec.key}\``);
    }
    assert.deepEqual(properties['forge.logLevel']!.enum, [null, 'error', 'warning', 'info', 'debug']);
    const leave = properties['forge.leaveToOtherServers'] as Property & { items: { enum: string[] } };
    assert.deepEqual(leave.items.enum, [...LEAVABLE]);
  });

  it('contributes the server, impact and trace settings', () => {
    for (const key of ['forge.serverPath', 'forge.pythonPath', 'forge.serverArgs', 'forge.impact.depth', 'forge.impact.maxNodes', 'forge.trace.server']) {
      assert.ok(properties[key], key);
    }
    // no depth: the walk goes on to a fixed point, under the server's default node cap
    assert.equal(properties['forge.impact.depth']!.default, null);
    assert.deepEqual(properties['forge.impact.depth']!.type, ['integer', 'null']);
    const depth = properties['forge.impact.depth'] as Property & { minimum: number; maximum: number };
    assert.deepEqual([depth.minimum, depth.maximum], [1, MAX_IMPACT_DEPTH]);
    const maxNodes = properties['forge.impact.maxNodes'] as Property & { minimum: number; maximum: number };
    assert.deepEqual([maxNodes.default, maxNodes.minimum, maxNodes.maximum], [10000, 1, MAX_IMPACT_NODES]);
  });

  it('declares the commands, each with a title, and the Impact view', () => {
    const commands = manifest.contributes.commands.map((c) => c.command);
    for (const c of ['forge.showImpact', 'forge.reindex', 'forge.showStatus', 'forge.showImpactGraph', 'forge.restartServer']) {
      assert.ok(commands.includes(c), c);
    }
    const titles = Object.fromEntries(manifest.contributes.commands.map((c) => [c.command, `${c.category}: ${c.title}`]));
    assert.equal(titles['forge.showImpact'], 'Forge: Show Impact');
    assert.equal(titles['forge.reindex'], 'Forge: Reindex');
    assert.equal(titles['forge.showStatus'], 'Forge: Show Status');
    assert.equal(manifest.contributes.views.forge[0]!.id, 'forge.impact');
    const editorMenu = manifest.contributes.menus['editor/context'][0]!;
    assert.equal(editorMenu.command, 'forge.showImpact');
    assert.match(editorMenu.when, /editorLangId == python/);
    // every command used in a menu exists
    for (const entries of Object.values(manifest.contributes.menus)) {
      for (const entry of entries as { command: string }[]) assert.ok(commands.includes(entry.command), entry.command);
    }
  });

  it('starts from the bundle on Python files', () => {
    assert.equal(manifest.main, './dist/extension.js');
    assert.ok(manifest.activationEvents.includes('onLanguage:python'));
    assert.equal(manifest.name, 'forge-lsp');
    assert.match(manifest.engines.vscode, /^\^1\.\d+\.\d+$/);
    // @types/vscode must not be newer than the engine (vsce refuses to package otherwise)
    const engine = manifest.engines.vscode.replace(/^\^/, '').split('.').map(Number);
    const types = manifest.devDependencies['@types/vscode'].replace(/^[~^]/, '').split('.').map(Number);
    assert.ok(types[0]! < engine[0]! || (types[0] === engine[0] && types[1]! <= engine[1]!));
  });
});
