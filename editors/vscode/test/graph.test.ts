import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { escapeXml, layoutGraph, makeNonce, renderGraphHtml, renderImpactSvg } from '../src/graph';
import { impactGraph } from '../src/impact';
import { checkWellFormedXml, dependent, fixtures, FOLDERS, item, result } from './helpers';

describe('renderImpactSvg', () => {
  const graph = impactGraph(fixtures.orderTotal(), { folders: FOLDERS });
  const { svg, width, height } = renderImpactSvg(graph);

  it('is a well-formed SVG document', () => {
    const names = checkWellFormedXml(svg);
    assert.equal(names[0], 'svg');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, new RegExp(`width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"`));
  });

  it('draws every node, with its label, and every edge', () => {
    for (const n of graph.nodes) {
      assert.ok(svg.includes(`data-id="${n.id}"`), `node ${n.label}`);
      assert.ok(svg.includes(`>${n.label}</text>`), `label ${n.label}`);
    }
    assert.equal((svg.match(/<path class="fg-edge/g) ?? []).length, graph.edges.length);
    for (const e of graph.edges) assert.ok(svg.includes(`data-from="${e.from}" data-to="${e.to}"`));
    assert.equal((svg.match(/class="fg-node fg-test"/g) ?? []).length, 3);
    assert.equal((svg.match(/class="fg-node fg-root"/g) ?? []).length, 1);
  });

  it('is self-contained: no external references, no scripts, no inline style attributes', () => {
    assert.doesNotMatch(svg, /https?:\/\/(?!www\.w3\.org\/2000\/svg")/);
    assert.doesNotMatch(svg, /<script/i);
    assert.doesNotMatch(svg, /\sstyle="/);
    assert.doesNotMatch(svg, /\shref=/);
  });

  it('escapes names', () => {
    const evil = item(1, 'A<b>&"c\'', { kind: 'class' });
    const d = dependent(item(2, '</text><script>alert(1)</script>'), [[2, 1, 'call']]);
    const out = renderImpactSvg(impactGraph(result(evil, [d]))).svg;
    checkWellFormedXml(out);
    assert.doesNotMatch(out, /<script/);
    assert.ok(out.includes('A&lt;b&gt;&amp;&quot;c&#39;'));
    assert.ok(out.includes('&lt;/text&gt;&lt;script&gt;'));
  });

  it('clips long labels but keeps them whole in the tooltip', () => {
    const long = 'very_long_module_name.VeryLongClassName.a_method_with_a_long_name';
    const d = dependent(item(2, long), [[2, 1, 'call']]);
    const out = renderImpactSvg(impactGraph(result(item(1, 'f'), [d])), { maxLabel: 30 }).svg;
    assert.ok(out.includes(`<title>${long}\n`));
    assert.ok(out.includes(`>${long.slice(0, 29)}…</text>`));
  });

  it('puts the nonce on its style element', () => {
    const out = renderImpactSvg(graph, { nonce: 'abc123' }).svg;
    assert.match(out, /<style nonce="abc123">/);
  });

  it('notes why the walk stopped early, an unsaved edit, omitted nodes and partial results', () => {
    const out = renderImpactSvg(impactGraph(fixtures.truncated())).svg;
    assert.match(out, /<text class="fg-note"[^>]*>cut off at the node limit: 2 nodes not expanded<\/text>/);
    const depth = renderImpactSvg(impactGraph(fixtures.depth1())).svg;
    assert.match(depth, /<text class="fg-note"[^>]*>cut off at depth 1: 1 node not expanded<\/text>/);
    const unsaved = renderImpactSvg(impactGraph(fixtures.unsavedBody())).svg;
    assert.match(unsaved, /<text class="fg-note"[^>]*>unsaved edit: body-only change: 3 tests reach it<\/text>/);
    const partial = fixtures.orderTotal();
    partial.partial = true;
    const small = renderImpactSvg(impactGraph(partial, { maxNodes: 2 })).svg;
    assert.match(small, /4 more not drawn · partial/);
    assert.doesNotMatch(renderImpactSvg(impactGraph(fixtures.orderTotal())).svg, /class="fg-note"/);
  });

  it('renders an empty graph without failing', () => {
    const out = renderImpactSvg(impactGraph(fixtures.noSymbol()));
    checkWellFormedXml(out.svg);
    assert.match(out.svg, /No symbol at this position/);
  });
});

describe('layoutGraph', () => {
  const graph = impactGraph(fixtures.orderTotal());
  const layout = layoutGraph(graph);

  it('puts each depth in its own column, left to right, with no overlapping boxes', () => {
    for (const n of graph.nodes) assert.equal(layout.boxes.get(n.id)!.column, n.depth);
    const xs = layout.columns.map((ids) => layout.boxes.get(ids[0]!)!.x);
    assert.deepEqual([...xs].sort((a, b) => a - b), xs);
    const boxes = [...layout.boxes.values()];
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i]!;
        const b = boxes[j]!;
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        assert.ok(!overlap, `boxes ${i} and ${j} overlap`);
      }
    }
    for (const b of boxes) {
      assert.ok(b.x >= 0 && b.x + b.w <= layout.width && b.y >= 0 && b.y + b.h <= layout.height);
    }
  });

  it('orders a column by what its nodes use (children stay next to their parent)', () => {
    // depth 3: test_pay_adds_vat and test_coupon both call Checkout.pay; depth 2 follows with_vat.
    const col3 = layout.columns[3]!.map((id) => graph.nodes.find((n) => n.id === id)!.label);
    assert.deepEqual(col3.sort(), ['test_coupon', 'test_pay_adds_vat']);
  });
});

describe('renderGraphHtml', () => {
  const html = renderGraphHtml({ nonce: 'N0nce', title: 'Impact <of> x', svg: '<svg></svg>' });

  it('has a strict Content-Security-Policy that allows only its own nonce', () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /style-src 'nonce-N0nce'/);
    assert.match(csp, /script-src 'nonce-N0nce'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:|\*/);
  });

  it('tags every style and script with the nonce and loads nothing remote', () => {
    const tags = html.match(/<(script|style)\b[^>]*>/g) ?? [];
    assert.ok(tags.length >= 2);
    for (const t of tags) assert.match(t, /nonce="N0nce"/);
    assert.doesNotMatch(html, /\bsrc=|https?:\/\//);
    assert.match(html, /<title>Impact &lt;of&gt; x<\/title>/);
  });

  it('leaves the script out of a static page', () => {
    const page = renderGraphHtml({ nonce: 'n', title: 't', svg: '<svg></svg>', interactive: false });
    assert.doesNotMatch(page, /<script/);
  });

  it('makes URL-safe nonces from random bytes', () => {
    const nonce = makeNonce((n) => new Uint8Array(n).fill(251));
    assert.match(nonce, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(escapeXml(`<&>"'`), '&lt;&amp;&gt;&quot;&#39;');
  });
});
