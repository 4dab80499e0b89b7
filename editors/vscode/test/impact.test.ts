import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { displayName, impactGraph, impactTree, pathText, shortLocation, summary, symbolIndex, type ImpactNode } from '../src/impact';
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
        ['tests', 'Tests'],
      ],
    );
    assert.equal(tree[0]!.description, 'method · 7 dependents');
  });

  it('lists each file’s dependents by line, with depth and a test marker', () => {
    const testFile = tree[3]!;
    assert.equal(testFile.description, '4 dependents · 3 tests');
    assert.deepEqual(
      testFile.children.map((d) => [d.label, d.description, d.icon]),
      [
        ['test_checkout.py', 'depth 2', 'symbol-module'],
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
    assert.equal(tests.description, '3 tests in 1 file');
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
    assert.equal(pathText(dep(''), byId), 'Order.total ←call— with_vat ←import— test_checkout.py');
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
  it('says so when there is no symbol at the position', () => {
    const tree = impactTree(fixtures.noSymbol(), { folders: FOLDERS });
    assert.deepEqual(
      tree.map((n) => [n.kind, n.label, n.description]),
      [['notice', 'No symbol at this position', 'shop/models.py']],
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
      ],
    );
    assert.equal(find(tree, (n) => n.kind === 'tests'), undefined);
  });

  it('warns first about a truncated result', () => {
    const tree = impactTree(fixtures.truncated(), { folders: FOLDERS });
    assert.equal(tree[0]!.kind, 'notice');
    assert.equal(tree[0]!.label, 'Truncated');
    assert.equal(tree[0]!.tone, 'warning');
    assert.match(tree[0]!.description!, /2 dependents/);
    assert.match(summary(fixtures.truncated()), /truncated/);
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
    assert.equal(tree[0]!.label, 'pricing.py');
    assert.match(tree[0]!.description!, /walk starts from 4 symbols/);
    assert.deepEqual(
      tree[0]!.children.map((c) => c.label),
      ['VAT', 'with_vat', 'discounted'],
    );
    assert.equal(summary(fixtures.pricingFile(), FOLDERS), 'pricing.py: 6 dependents in 2 files · 3 tests · depth ≤ 3');
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
        ['test_checkout.py', 2],
        ['test_with_vat_of_empty_order', 2],
        ['test_pay_adds_vat', 3],
        ['test_coupon', 3],
      ],
    );
    assert.equal(g.nodes.length, 8);
    assert.equal(new Set(g.nodes.map((n) => n.id)).size, 8);
    assert.deepEqual(
      g.edges.map((e) => `${e.from}>${e.to}:${e.kind}`).sort(),
      ['19>14:call', '20>19:call', '22>19:import', '23>7:call', '24>19:call', '25>7:call', '7>19:call'].sort(),
    );
    const root = g.nodes.find((n) => n.isRoot)!;
    assert.equal(root.label, 'Order.total');
    assert.equal(g.nodes.filter((n) => n.isTest).length, 3);
    assert.equal(g.title, 'Order.total: 7 dependents in 3 files · 3 tests · depth ≤ 3');
  });

  it('keeps only the roots that something reaches, plus the root itself', () => {
    const g = impactGraph(fixtures.pricingFile());
    const roots = g.nodes.filter((n) => n.isRoot).map((n) => n.label);
    assert.deepEqual(roots, ['pricing.py', 'with_vat']); // VAT and discounted: nothing reaches them
    assert.deepEqual(g.edges.map((e) => `${e.from}>${e.to}:${e.kind}`).sort(), ['22>18:import', '23>7:call', '24>19:call', '25>7:call', '3>18:import', '7>18:read'].sort());
  });

  it('draws the nearest dependents first when there are more than maxNodes, and counts the rest', () => {
    const g = impactGraph(fixtures.orderTotal(), { maxNodes: 3 });
    assert.equal(g.omitted, 4);
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
