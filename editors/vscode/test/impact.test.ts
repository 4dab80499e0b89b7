import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { cutOffText, displayName, impactGraph, impactTree, pathText, shortLocation, summary, symbolIndex, viewMessage, type ImpactNode } from '../src/impact';
import { DEMO, FOLDERS, dependent, fixtures, item, result } from './helpers';

function find(nodes: ImpactNode[], predicate: (n: ImpactNode) => boolean): ImpactNode | undefined {
  for (const n of nodes) {
    if (predicate(n)) return n;
    const inner = find(n.children, predicate);
    if (inner) return inner;
  }
  return undefined;
}

function all(nodes: ImpactNode[]): ImpactNode[] {
  return nodes.flatMap((n) => [n, ...all(n.children)]);
}

describe('impactTree on the demo (Order.total)', () => {
  const tree = impactTree(fixtures.orderTotal(), { folders: FOLDERS });

  it('starts with the root, then the files in path order, then the tests', () => {
    assert.deepEqual(
      tree.map((n) => [n.kind, n.label]),
      [
        ['root', 'Order.total'],
        ['file', 'shop/checkout.py'],
        ['file', 'shop/pricing.py'],
        ['file', 'tests/test_checkout.py'],
        ['tests', 'Tests reached: 3'],
      ],
    );
    assert.equal(tree[0]!.description, 'method · 6 dependents');
  });

  it('sums the walk up: counts, tests reached, no depth limit', () => {
    assert.equal(summary(fixtures.orderTotal(), FOLDERS), 'Order.total: 6 dependents (6 exact, 0 probable) in 3 files · tests reached: 3');
    // nothing unsaved: the message is the summary
    assert.equal(viewMessage(fixtures.orderTotal(), FOLDERS), summary(fixtures.orderTotal(), FOLDERS));
  });

  it('lists each file’s dependents by line, with depth and a test marker', () => {
    const testFile = tree[3]!;
    assert.equal(testFile.description, '3 dependents · 3 tests');
    assert.deepEqual(
      testFile.children.map((d) => [d.label, d.description, d.icon]),
      [
        ['test_pay_adds_vat', 'depth 3 · test', 'beaker'],
        ['test_with_vat_of_empty_order', 'depth 2 · test', 'beaker'],
        ['test_coupon', 'depth 3 · test', 'beaker'],
      ],
    );
    const pricing = tree[2]!;
    assert.deepEqual(
      pricing.children.map((d) => [d.label, d.description, d.icon]),
      [
        ['with_vat', 'depth 1', 'symbol-function'],
        ['discounted', 'depth 2', 'symbol-function'],
      ],
    );
  });

  it('gives every dependent one child per edge of its path, root first, each opening the use', () => {
    const pay = find(tree, (n) => n.kind === 'dependent' && n.label === 'Checkout.pay')!;
    assert.deepEqual(
      pay.children.map((s) => [s.label, s.description]),
      [
        ['with_vat → Order.total', 'call · pricing.py:7'],
        ['Checkout.pay → with_vat', 'call · checkout.py:15'],
      ],
    );
    assert.deepEqual(pay.children[1]!.location, {
      uri: `${DEMO}/shop/checkout.py`,
      range: { start: { line: 14, character: 23 }, end: { line: 14, character: 31 } },
    });
    // the dependent itself opens its name
    assert.deepEqual(pay.location!.range.start, { line: 11, character: 8 });
    assert.match(pay.tooltip!, /Order\.total ←call— with_vat ←call— Checkout\.pay/);
    assert.match(pay.tooltip!, /def pay\(self, coupon: int = 0\) -> float/);
  });

  it('groups the tests by test file, with their depth and path', () => {
    const tests = tree[4]!;
    assert.equal(tests.label, 'Tests reached: 3');
    assert.equal(tests.description, 'in 1 file');
    assert.equal(tests.children.length, 1);
    const file = tests.children[0]!;
    assert.equal(file.kind, 'testFile');
    assert.equal(file.label, 'tests/test_checkout.py');
    assert.deepEqual(
      file.children.map((t) => [t.label, t.description]),
      [
        ['test_pay_adds_vat', 'depth 3'],
        ['test_with_vat_of_empty_order', 'depth 2'],
        ['test_coupon', 'depth 3'],
      ],
    );
    assert.match(file.children[0]!.tooltip!, /Order\.total ←call— with_vat ←call— Checkout\.pay ←call— test_pay_adds_vat/);
  });

  it('has unique ids', () => {
    const ids = all(tree).map((n) => n.id);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('is the same for the same result (stable ids keep the expansion state)', () => {
    assert.deepEqual(impactTree(fixtures.orderTotal(), { folders: FOLDERS }), tree);
  });
});

describe('pathText', () => {
  const r = fixtures.orderTotal();
  const byId = symbolIndex(r);
  const dep = (name: string) => r.files.flatMap((f) => f.dependents).find((d) => d.symbol.name === name)!;

  it('reads from the root out to the dependent, with the edge kinds', () => {
    assert.equal(pathText(dep('with_vat'), byId), 'Order.total ←call— with_vat');
    assert.equal(pathText(dep('test_coupon'), byId), 'Order.total ←call— with_vat ←call— Checkout.pay ←call— test_coupon');
    // a module's name is its file name
    const file = fixtures.pricingFile();
    const pay = file.files.flatMap((f) => f.dependents).find((d) => d.symbol.name === 'pay')!;
    assert.equal(pathText(pay, symbolIndex(file)), 'shop.pricing ←read— Checkout.pay');
  });

  it('marks probable edges and falls back to #id for symbols it does not know', () => {
    const root = item(1, 'Base.save', { kind: 'method' });
    const d = dependent(item(3, 'handler'), [
      [2, 1, 'call', 'probable'],
      [3, 2, 'call'],
    ]);
    assert.equal(pathText(d, symbolIndex(result(root, [d]))), 'Base.save ←call?— #2 ←call— handler');
  });

  it('is just the name for an empty path', () => {
    const d = dependent(item(3, 'x'), []);
    assert.equal(pathText(d, new Map()), 'x');
  });
});

describe('impactTree edge cases', () => {
  it('says so when there is no symbol at the position (the file is not indexed)', () => {
    const tree = impactTree(fixtures.noSymbol(), { folders: FOLDERS });
    assert.deepEqual(
      tree.map((n) => [n.kind, n.label, n.description]),
      [['notice', 'No symbol at this position', 'shop/new.py']],
    );
    assert.equal(summary(fixtures.noSymbol()), 'No symbol at this position');
  });

  it('says "No dependents" for a symbol nothing uses', () => {
    const root = item(1, 'unused');
    const tree = impactTree(result(root, []), { folders: FOLDERS });
    assert.deepEqual(
      tree.map((n) => [n.kind, n.label]),
      [
        ['root', 'unused'],
        ['notice', 'No dependents'],
        ['tests', 'Tests reached: 0'],
      ],
    );
    assert.equal(tree[1]!.description, 'nothing depends on it');
    const tests = find(tree, (n) => n.kind === 'tests')!;
    assert.deepEqual([tests.description, tests.children], ['no test depends on it', []]);
    assert.equal(summary(result(root, [], { depth: null })), 'unused: 0 dependents (0 exact, 0 probable) in 0 files · tests reached: 0');
    assert.equal(impactTree(result(root, [], { depth: 2 }))[1]!.description, 'nothing depends on it within depth 2');
  });

  it('warns first about a walk cut off at the node limit, with the nodes not expanded', () => {
    const r = fixtures.truncated();
    const tree = impactTree(r, { folders: FOLDERS });
    assert.deepEqual(
      [tree[0]!.kind, tree[0]!.label, tree[0]!.description, tree[0]!.tone],
      ['notice', 'Cut off', 'at the node limit: 2 nodes not expanded', 'warning'],
    );
    assert.match(tree[0]!.tooltip!, /forge\.impact\.maxNodes/);
    assert.equal(cutOffText(r), 'cut off at the node limit: 2 nodes not expanded');
    assert.equal(
      summary(r, FOLDERS),
      'Order.total: 2 dependents (2 exact, 0 probable) in 2 files · tests reached: 0 · cut off at the node limit: 2 nodes not expanded',
    );
  });

  it('warns about a walk cut off at its depth', () => {
    const r = fixtures.depth1();
    const tree = impactTree(r, { folders: FOLDERS });
    assert.deepEqual([tree[0]!.label, tree[0]!.description], ['Cut off', 'at depth 1: 1 node not expanded']);
    assert.match(tree[0]!.tooltip!, /forge\.impact\.depth/);
    assert.equal(summary(r, FOLDERS), 'Order.total: 1 dependent (1 exact, 0 probable) in 1 file · tests reached: 0 · cut off at depth 1: 1 node not expanded');
    // a depth the walk did not reach is still said
    const complete = fixtures.orderTotal();
    complete.depth = 5;
    assert.match(summary(complete), / · depth ≤ 5$/);
  });

  it('counts exact and probable dependents, also when the server leaves the counts out', () => {
    const root = item(1, 'Base.save', { kind: 'method' });
    const a = dependent(item(2, 'handler'), [[2, 1, 'call', 'probable']]);
    const b = dependent(item(3, 'main'), [[3, 1, 'call']]);
    assert.match(summary(result(root, [a, b], { exactCount: 1, probableCount: 1 })), /^Base\.save: 2 dependents \(1 exact, 1 probable\)/);
    const old = result(root, [a, b]) as Partial<ReturnType<typeof result>>;
    delete old.exactCount;
    delete old.probableCount;
    assert.match(summary(old as ReturnType<typeof result>), /^Base\.save: 2 dependents \(1 exact, 1 probable\)/);
  });

  it('puts an unsaved edit first: its summary in the message and a notice on top', () => {
    const r = fixtures.unsavedBody();
    assert.deepEqual(r.pendingChange, { change: 'body', reason: 'body', symbols: ['Order.total'], summary: 'body-only change: 3 tests reach it' });
    const tree = impactTree(r, { folders: FOLDERS });
    assert.deepEqual(
      [tree[0]!.id, tree[0]!.label, tree[0]!.description, tree[0]!.tone],
      ['notice:pendingChange', 'Unsaved edit', 'body-only change: 3 tests reach it', 'info'],
    );
    assert.match(tree[0]!.tooltip!, /`Order\.total`/);
    assert.equal(tree[1]!.kind, 'root');
    assert.equal(
      viewMessage(r, FOLDERS),
      'Unsaved edit: body-only change: 3 tests reach it — Order.total: 6 dependents (6 exact, 0 probable) in 3 files · tests reached: 3',
    );

    const signature = fixtures.orderTotal();
    signature.pendingChange = { change: 'interface', reason: 'signature', symbols: ['Order.total'], summary: 'signature changed: 1 caller in 1 file, 3 tests reach it' };
    const top = impactTree(signature)[0]!;
    assert.deepEqual([top.description, top.tone, top.icon], ['signature changed: 1 caller in 1 file, 3 tests reach it', 'warning', 'warning']);
    assert.match(top.tooltip!, /interface \(signature\)/);
  });

  it('describes every kind of edge in the step tooltips', () => {
    const root = item(1, 'C.__init__', { kind: 'method' });
    const kinds = ['construct', 'fixture', 'protocol', 'module', 're-export', 'autouse', 'setup', 'member', 'attribute', 'decorate', 'inherit', 'write', 'read', 'call', 'novel'];
    const d = dependent(
      item(99, 'user'),
      kinds.map((kind, i) => [i + 2 === kinds.length + 1 ? 99 : i + 2, i + 1, kind] as [number, number, string]),
    );
    const steps = find(impactTree(result(root, [d])), (n) => n.kind === 'dependent')!.children;
    assert.deepEqual(
      steps.map((s) => s.icon),
      ['symbol-constructor', 'beaker', 'symbol-interface', 'symbol-module', 'export', 'beaker', 'gear', 'symbol-class', 'symbol-property', 'symbol-color', 'type-hierarchy-sub', 'edit', 'eye', 'call-incoming', 'arrow-small-left'],
    );
    const tips = steps.map((s) => s.tooltip!.replace(/ at m\.py:1$/, ''));
    assert.equal(tips[0], '`#2` runs `C.__init__` by constructing its class');
    assert.equal(tips[1], '`#3` uses the fixture `#2`');
    assert.equal(tips[6], '`#8` runs `#7` first (set-up)');
    assert.equal(tips[7], '`#9` is a test of the class `#8`');
    assert.equal(tips[13], '`#15` calls `#14`');
    assert.equal(tips[14], '`user` novels `#15`');
  });

  it('warns about a partial result, naming the pending documents', () => {
    const r = fixtures.orderTotal();
    r.partial = true;
    r.pending = [`${DEMO}/shop/pricing.py`];
    const tree = impactTree(r, { folders: FOLDERS });
    assert.equal(tree[0]!.label, 'Partial result');
    assert.equal(tree[0]!.description, '1 edited file not yet in the graph');
    assert.match(tree[0]!.tooltip!, /shop\/pricing\.py/);

    const indexing = fixtures.orderTotal();
    indexing.partial = true;
    assert.equal(impactTree(indexing)[0]!.description, 'indexing is under way');
    assert.match(summary(indexing), /partial$/);
  });

  it('marks probable dependents and steps in the warning tone', () => {
    const root = item(1, 'Base.save', { kind: 'method' });
    const d = dependent(item(2, 'handler'), [[2, 1, 'call', 'probable']]);
    const tree = impactTree(result(root, [d]));
    const node = find(tree, (n) => n.kind === 'dependent')!;
    assert.equal(node.description, 'depth 1 · probable');
    assert.equal(node.tone, 'warning');
    assert.equal(node.children[0]!.description, 'call (probable) · m.py:1');
  });

  it('shows a whole-file result with its other roots under the module', () => {
    const tree = impactTree(fixtures.pricingFile(), { folders: FOLDERS });
    assert.equal(tree[0]!.kind, 'root');
    assert.equal(tree[0]!.label, 'shop.pricing');
    assert.match(tree[0]!.description!, /walk starts from 4 symbols/);
    assert.deepEqual(
      tree[0]!.children.map((c) => c.label),
      ['VAT', 'with_vat', 'discounted'],
    );
    assert.equal(summary(fixtures.pricingFile(), FOLDERS), 'shop.pricing: 4 dependents (4 exact, 0 probable) in 2 files · tests reached: 3');
  });

  it('labels files by folder name when there are several folders, else the full path', () => {
    const folders = [...FOLDERS, { uri: 'file:///home/dev/other', name: 'other' }];
    const tree = impactTree(fixtures.orderTotal(), { folders });
    assert.equal(tree[1]!.label, 'demo/shop/checkout.py');
    assert.equal(impactTree(fixtures.orderTotal())[1]!.label, '/home/dev/demo/shop/checkout.py');
  });

  it('survives missing optional fields', () => {
    const r = { root: item(1, 'f'), roots: [], depth: 3, truncated: false, count: 0, partial: false } as unknown as Parameters<typeof impactTree>[0];
    assert.doesNotThrow(() => impactTree(r));
    assert.doesNotThrow(() => impactGraph(r));
  });

  it('uses the file name for a module and the qualified name otherwise', () => {
    assert.equal(displayName(item(1, 'A.b')), 'A.b');
    assert.equal(displayName({ name: '', qualname: '', kind: 'module', uri: `${DEMO}/pkg/__init__.py` }), '__init__.py');
    assert.equal(shortLocation(`${DEMO}/a%20b.py`, { start: { line: 4, character: 0 }, end: { line: 4, character: 1 } }), 'a b.py:5');
  });
});

describe('impactGraph', () => {
  it('has the root and every dependent once, and every edge of every path once', () => {
    const g = impactGraph(fixtures.orderTotal(), { folders: FOLDERS });
    assert.deepEqual(
      g.nodes.map((n) => [n.label, n.depth]),
      [
        ['Order.total', 0],
        ['with_vat', 1],
        ['Checkout.pay', 2],
        ['discounted', 2],
        ['test_with_vat_of_empty_order', 2],
        ['test_pay_adds_vat', 3],
        ['test_coupon', 3],
      ],
    );
    assert.equal(g.nodes.length, 7);
    assert.equal(new Set(g.nodes.map((n) => n.id)).size, 7);
    assert.deepEqual(
      g.edges.map((e) => `${e.from}>${e.to}:${e.kind}`).sort(),
      ['19>14:call', '20>19:call', '23>7:call', '24>19:call', '25>7:call', '7>19:call'].sort(),
    );
    const root = g.nodes.find((n) => n.isRoot)!;
    assert.equal(root.label, 'Order.total');
    assert.equal(g.nodes.filter((n) => n.isTest).length, 3);
    assert.equal(g.title, 'Order.total: 6 dependents (6 exact, 0 probable) in 3 files · tests reached: 3');
    assert.equal(g.cutOff, undefined);
    assert.equal(g.pendingChange, undefined);
    assert.equal(impactGraph(fixtures.depth1()).cutOff, 'cut off at depth 1: 1 node not expanded');
    assert.equal(impactGraph(fixtures.unsavedBody()).pendingChange, 'body-only change: 3 tests reach it');
  });

  it('keeps only the roots that something reaches, plus the root itself', () => {
    const g = impactGraph(fixtures.pricingFile());
    const roots = g.nodes.filter((n) => n.isRoot).map((n) => n.label);
    assert.deepEqual(roots, ['shop.pricing', 'with_vat']); // VAT and discounted: nothing reaches them
    assert.deepEqual(g.edges.map((e) => `${e.from}>${e.to}:${e.kind}`).sort(), ['23>7:call', '24>19:call', '25>7:call', '7>18:read'].sort());
  });

  it('draws the nearest dependents first when there are more than maxNodes, and counts the rest', () => {
    const g = impactGraph(fixtures.orderTotal(), { maxNodes: 3 });
    assert.equal(g.omitted, 3);
    assert.deepEqual(
      g.nodes.filter((n) => !n.isRoot).map((n) => n.depth),
      [1, 2, 2],
    );
    for (const e of g.edges) {
      assert.ok(g.nodes.some((n) => n.id === e.from) && g.nodes.some((n) => n.id === e.to), 'edges only between drawn nodes');
    }
  });

  it('is empty for no symbol', () => {
    const g = impactGraph(fixtures.noSymbol());
    assert.deepEqual(g.nodes, []);
    assert.deepEqual(g.edges, []);
  });

  it('keeps an edge exact when one path has it exact and another probable', () => {
    const root = item(1, 'r');
    const a = dependent(item(2, 'a'), [[2, 1, 'call', 'probable']]);
    const b = dependent(item(3, 'b'), [
      [2, 1, 'call', 'exact'],
      [3, 2, 'call'],
    ]);
    const g = impactGraph(result(root, [a, b]));
    assert.deepEqual(
      g.edges.map((e) => [e.from, e.to, e.confidence]),
      [
        [2, 1, 'exact'],
        [3, 2, 'exact'],
      ],
    );
  });
});
