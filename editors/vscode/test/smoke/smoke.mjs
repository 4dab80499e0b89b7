// End-to-end smoke test without VS Code: loads the real bundle (dist/extension.js) with a stub
// `vscode` module, lets it start the real server on a copy of examples/demo, and drives the
// commands: status bar through indexing, Show Impact (tree), the graph webview, Show Status,
// an unsaved edit (Show Impact says what kind of change it is), Reindex, then deactivation
// (LSP shutdown/exit).
//
// Usage: FORGE_PYTHON=/path/to/python node test/smoke/smoke.mjs   (python with forge_lsp installed)
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const repo = resolve(root, '../..');
const require = createRequire(import.meta.url);

const python = process.env.FORGE_PYTHON;
if (!python) {
  console.error('set FORGE_PYTHON to an interpreter with forge_lsp installed');
  process.exit(2);
}
if (!existsSync(join(root, 'dist/extension.js'))) {
  console.error('run `npm run build` first');
  process.exit(2);
}

// `require('vscode')` → the stub.
const stubPath = join(here, 'vscode-stub.cjs');
const originalResolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'vscode') return stubPath;
  return originalResolve.call(this, request, ...rest);
};
// vscode-languageclient leaves some rejections of a dead connection unhandled; VS Code's
// extension host only logs those, so do the same here instead of crashing.
process.on('unhandledRejection', (error) => console.log(`(unhandled rejection, logged as VS Code would: ${error})`));
const vscode = require('vscode');
const recorded = vscode.__recorded;

const work = mkdtempSync(join(tmpdir(), 'forge-vscode-smoke-'));
const demo = join(work, 'demo');
cpSync(join(repo, 'examples/demo'), demo, { recursive: true, filter: (src) => !/(\.forge|__pycache__)$/.test(src) });

const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(2)}s] ${msg}`);

async function until(what, predicate, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = predicate();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}; status bar texts: ${JSON.stringify(recorded.statusTexts)}\n${serverOutput()}`);
}

function serverOutput() {
  return recorded.output.map((o) => `--- ${o.name}\n${o.lines.join('\n')}`).join('\n');
}

function labels(provider, nodes, depth = 0) {
  const out = [];
  for (const n of nodes) {
    const item = provider.getTreeItem(n);
    out.push(`${'  '.repeat(depth)}${item.label}${item.description ? `  (${item.description})` : ''}`);
    out.push(...labels(provider, provider.getChildren(n), depth + 1));
  }
  return out;
}

let ok = false;
try {
  recorded.settings['forge.pythonPath'] = python;
  recorded.settings['forge.logLevel'] = 'info';
  recorded.folders.push({ uri: vscode.Uri.file(demo), name: 'demo', index: 0 });

  const extension = require(join(root, 'dist/extension.js'));
  const context = { subscriptions: [], extensionUri: vscode.Uri.file(root), extensionPath: root, globalState: { get() {}, update() {} }, workspaceState: { get() {}, update() {} } };
  await extension.activate(context);
  log('activated');

  for (const id of ['forge.showImpact', 'forge.showFileImpact', 'forge.reindex', 'forge.showStatus', 'forge.showImpactGraph', 'forge.restartServer']) {
    assert.ok(recorded.commands.has(id), `command ${id} registered`);
  }

  const ready = await until('the status bar to show the graph', () => recorded.statusTexts.find((t) => /Forge: \d+ files/.test(t)));
  log(`status bar: ${ready}   (seen: ${[...new Set(recorded.statusTexts)].join(' | ')})`);
  assert.equal(ready, '$(database) Forge: 5 files');
  assert.ok(recorded.statusTexts.some((t) => /starting/.test(t)));
  const sawIndexing = recorded.statusTexts.some((t) => /indexing/.test(t));
  log(`indexing progress seen in the status bar: ${sawIndexing}`);
  const client = recorded.output.find((o) => o.name === 'Forge LSP');
  assert.ok(client.lines.some((l) => l.includes('-m forge_lsp serve')), 'started with python -m forge_lsp serve');
  assert.ok(client.lines.some((l) => l.includes('initializationOptions: {"logLevel":"info"}')), 'only the set option is sent');

  // Show Impact on `total` of Order.total (line 21, column 9 → 0-based 20:8).
  const models = vscode.Uri.file(join(demo, 'shop/models.py'));
  recorded.activeTextEditor = {
    document: { uri: models, languageId: 'python', fileName: models.fsPath },
    selection: new vscode.Selection(new vscode.Position(20, 8), new vscode.Position(20, 8)),
  };
  await vscode.commands.executeCommand('forge.showImpact');
  const view = recorded.treeViews.get('forge.impact');
  const tree = labels(view.provider, view.provider.getChildren());
  log(`impact view: ${view.message}\n    ${tree.join('\n    ')}`);
  // No forge.impact.depth: the walk goes on to a fixed point.
  assert.equal(view.message, 'Order.total: 6 dependents (6 exact, 0 probable) in 3 files · tests reached: 3');
  assert.deepEqual(
    view.provider.getChildren().map((n) => n.label),
    ['Order.total', 'shop/checkout.py', 'shop/pricing.py', 'tests/test_checkout.py', 'Tests reached: 3'],
  );
  assert.ok(tree.some((l) => l.includes('test_coupon  (depth 3 · test)')));
  assert.ok(!tree.some((l) => l.includes('test_checkout.py  (depth')), 'an import is no dependency');

  // forge.impact.depth = 1: cut off, and the view says how many nodes it did not expand.
  recorded.settings['forge.impact.depth'] = 1;
  await vscode.commands.executeCommand('forge.showImpact');
  log(`impact view (depth 1): ${view.message}`);
  assert.equal(view.message, 'Order.total: 1 dependent (1 exact, 0 probable) in 1 file · tests reached: 0 · cut off at depth 1: 1 node not expanded');
  assert.deepEqual(
    labels(view.provider, view.provider.getChildren()).filter((l) => !l.startsWith(' ')),
    ['Cut off  (at depth 1: 1 node not expanded)', 'Order.total  (method · 1 dependent)', 'shop/pricing.py  (1 dependent)', 'Tests reached: 0  (no test depends on it)'],
  );
  delete recorded.settings['forge.impact.depth'];
  await vscode.commands.executeCommand('forge.showImpact');
  assert.equal(recorded.context.get('forge.hasImpact'), true);

  // The graph picture.
  await vscode.commands.executeCommand('forge.showImpactGraph');
  const panel = recorded.webviews.at(-1);
  assert.ok(panel, 'a webview was opened');
  const html = panel.webview.html;
  for (const name of ['Order.total', 'with_vat', 'Checkout.pay', 'discounted', 'test_pay_adds_vat', 'test_with_vat_of_empty_order', 'test_coupon']) {
    assert.ok(html.includes(`>${name}</text>`), `graph shows ${name}`);
  }
  assert.match(html, /Content-Security-Policy/);
  panel._send({ type: 'open', id: 7 });
  await new Promise((r) => setTimeout(r, 20));
  log(`graph webview: ${html.length} characters of HTML; a click opened ${recorded.shownDocuments?.at(-1)?.toString()}`);
  assert.ok(String(recorded.shownDocuments?.at(-1)).endsWith('/shop/checkout.py'));

  // Whole-file impact from the explorer.
  await vscode.commands.executeCommand('forge.showFileImpact', vscode.Uri.file(join(demo, 'shop/pricing.py')));
  log(`file impact: ${view.message}`);
  assert.equal(view.message, 'shop.pricing: 4 dependents (4 exact, 0 probable) in 2 files · tests reached: 3');

  // An unsaved edit of Order.total's body (opened and changed as VS Code would, never saved):
  // Show Impact puts what kind of change it is first.
  const modelsText = readFileSync(models.fsPath, 'utf8');
  const lines = modelsText.split('\n');
  assert.match(lines[21], /^ {8}return sum\(/);
  const at = new vscode.Position(21, '        return '.length);
  const offset = lines.slice(0, 21).join('\n').length + 1 + at.character;
  let current = modelsText;
  const document = {
    uri: models,
    fileName: models.fsPath,
    languageId: 'python',
    version: 1,
    isDirty: false,
    isClosed: false,
    isUntitled: false,
    eol: 1,
    get lineCount() {
      return current.split('\n').length;
    },
    getText: () => current,
  };
  vscode.workspace.textDocuments.push(document);
  recorded.documents.open.fire(document);
  current = modelsText.slice(0, offset) + '0 + ' + modelsText.slice(offset);
  document.version = 2;
  document.isDirty = true;
  recorded.documents.change.fire({
    document,
    contentChanges: [{ range: new vscode.Range(at, at), rangeOffset: offset, rangeLength: 0, text: '0 + ' }],
    reason: undefined,
  });
  await new Promise((r) => setTimeout(r, 200)); // the notifications go out asynchronously
  recorded.activeTextEditor = { document, selection: new vscode.Selection(new vscode.Position(21, 12), new vscode.Position(21, 12)) };
  await vscode.commands.executeCommand('forge.showImpact'); // inside the body of Order.total
  log(`impact view (unsaved edit): ${view.message}`);
  assert.equal(
    view.message,
    'Unsaved edit: body-only change: 3 tests reach it — Order.total: 6 dependents (6 exact, 0 probable) in 3 files · tests reached: 3',
  );
  const [notice, rootNode] = view.provider.getChildren();
  assert.deepEqual([notice.label, notice.description], ['Unsaved edit', 'body-only change: 3 tests reach it']);
  assert.equal(rootNode.label, 'Order.total');
  // Undone and closed: nothing pending any more.
  current = modelsText;
  document.version = 3;
  recorded.documents.change.fire({
    document,
    contentChanges: [{ range: new vscode.Range(at, new vscode.Position(21, at.character + 4)), rangeOffset: offset, rangeLength: 4, text: '' }],
    reason: undefined,
  });
  recorded.documents.close.fire(document);
  vscode.workspace.textDocuments.length = 0;
  await new Promise((r) => setTimeout(r, 200));
  await vscode.commands.executeCommand('forge.showImpact');
  assert.equal(view.message, 'Order.total: 6 dependents (6 exact, 0 probable) in 3 files · tests reached: 3');

  // Show Status.
  await vscode.commands.executeCommand('forge.showStatus');
  const statusDoc = recorded.shownDocuments.at(-1);
  const report = statusDoc.getText();
  log(`status report: ${report.split('\n').slice(0, 4).join(' / ')}`);
  assert.match(report, /^# forge-lsp /);
  assert.match(report, /- \*\*Graph:\*\* 5 files, 25 symbols/);

  // Reindex.
  const before = recorded.statusTexts.length;
  await vscode.commands.executeCommand('forge.reindex');
  const info = recorded.messages.find((m) => /reindexed/.test(m.text));
  log(`reindex: ${info?.text}; status bar meanwhile: ${[...new Set(recorded.statusTexts.slice(before))].join(' | ')}`);
  assert.ok(info, `reindex reported: ${JSON.stringify(recorded.messages)}`);

  // No errors shown to the user.
  const errors = recorded.messages.filter((m) => m.kind === 'error' || m.kind === 'warning');
  assert.deepEqual(errors, []);

  await extension.deactivate();
  log('deactivated (server shut down)');

  // A server that dies at once (here: an "interpreter" without forge_lsp) is reported once,
  // clearly, and not restarted over and over: dying before it reads `initialize` (EPIPE), and
  // dying with `initialize` pending (vscode-languageclient 9 then resolves start()).
  for (const [variant, delay] of [['at once', ''], ['with initialize pending', 'sleep 0.3\n']]) {
    const fake = join(work, 'python-without-forge');
    writeFileSync(fake, `#!/bin/sh\n${delay}echo "No module named forge_lsp" >&2\nexit 1\n`);
    chmodSync(fake, 0o755);
    recorded.settings['forge.pythonPath'] = fake;
    recorded.messages.length = 0;
    recorded.statusTexts.length = 0;
    await extension.activate({ ...context, subscriptions: [] });
    await until('the status bar to show the failure', () => recorded.statusTexts.includes('$(error) Forge'), 20_000);
    await new Promise((r) => setTimeout(r, 700)); // no restarts, no more messages
    const ours = recorded.messages.filter((m) => m.text.startsWith('forge-lsp '));
    log(`server exiting ${variant}: ${JSON.stringify(ours.map((m) => m.text))}`);
    assert.equal(ours.length, 1);
    assert.match(ours[0].text, /exited while starting.*Is forge_lsp installed in .*python-without-forge\?/);
    assert.ok(recorded.messages.length <= 2, `at most one more message, from vscode-languageclient: ${JSON.stringify(recorded.messages)}`);
    assert.equal(recorded.statusTexts.at(-1), '$(error) Forge');
    const channel = recorded.output.filter((o) => o.name === 'Forge LSP').at(-1);
    assert.equal(channel.lines.filter((l) => l.includes('[client] starting: ')).length, 1, 'started once, never restarted');
    assert.ok(channel.lines.some((l) => l.includes('No module named forge_lsp')), "the server's stderr is in the output");
    assert.ok(!channel.lines.some((l) => l.includes('forge/status failed')), 'no requests to a dead server');
    await extension.deactivate();
  }
  ok = true;
} catch (error) {
  console.error(error);
  console.error(serverOutput());
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (ok) console.log('smoke test passed');
process.exit(ok ? 0 : 1);
