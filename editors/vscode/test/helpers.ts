/** Fixtures and small checkers shared by the unit tests. */

import orderTotal from './fixtures/impact-order-total.json';
import pricingFile from './fixtures/impact-pricing-file.json';
import truncated from './fixtures/impact-truncated.json';
import noSymbol from './fixtures/impact-no-symbol.json';
import depth1 from './fixtures/impact-depth-1.json';
import unsavedBody from './fixtures/impact-unsaved-body.json';
import statusReady from './fixtures/status-ready.json';
import statusIndexing from './fixtures/status-indexing.json';
import type { Dependent, ImpactResult, Item, StatusResult } from '../src/protocol';

/** A deep copy, so that a test can change a fixture without affecting the others. */
function copy<T>(value: unknown): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Real `forge/impact` answers of forge-lsp serve on examples/demo (URIs moved to /home/dev/demo). */
export const fixtures = {
  /** shop/models.py, cursor on `total` of Order.total, no depth: 6 dependents, 3 tests. */
  orderTotal: () => copy<ImpactResult>(orderTotal),
  /** shop/pricing.py, no position: the whole file. */
  pricingFile: () => copy<ImpactResult>(pricingFile),
  /** Order.total with maxNodes 2: cut off at the node limit. */
  truncated: () => copy<ImpactResult>(truncated),
  /** Order.total with depth 1: cut off at depth 1. */
  depth1: () => copy<ImpactResult>(depth1),
  /** Order.total while shop/models.py has an unsaved edit of its body (`pendingChange`). */
  unsavedBody: () => copy<ImpactResult>(unsavedBody),
  /** A position in a file that is not indexed (shop/new.py): no symbol. */
  noSymbol: () => copy<ImpactResult>(noSymbol),
  statusReady: () => copy<StatusResult>(statusReady),
  statusIndexing: () => copy<StatusResult>(statusIndexing),
};

export const DEMO = 'file:///home/dev/demo';
export const FOLDERS = [{ uri: DEMO, name: 'demo' }];

const zero = { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } };

export function item(id: number, qualname: string, extra: Partial<Item> = {}): Item {
  return {
    id,
    name: qualname.split('.').pop() ?? qualname,
    qualname,
    kind: 'function',
    detail: `def ${qualname}()`,
    uri: `${DEMO}/m.py`,
    range: zero,
    selectionRange: zero,
    ...extra,
  };
}

export function dependent(symbol: Item, path: [from: number, to: number, kind?: string, confidence?: 'exact' | 'probable'][], extra: Partial<Dependent> = {}): Dependent {
  return {
    symbol,
    depth: path.length,
    confidence: path.some((p) => p[3] === 'probable') ? 'probable' : 'exact',
    isTest: false,
    chain: path.map(([from, to, kind, confidence]) => ({
      from,
      to,
      kind: kind ?? 'call',
      confidence: confidence ?? 'exact',
      location: { uri: symbol.uri, range: zero },
    })),
    ...extra,
  };
}

/** An impact result around one root, from a list of dependents (grouped by their file). */
export function result(root: Item | null, dependents: Dependent[], extra: Partial<ImpactResult> = {}): ImpactResult {
  const files = new Map<string, Dependent[]>();
  for (const d of dependents) files.set(d.symbol.uri, [...(files.get(d.symbol.uri) ?? []), d]);
  return {
    target: { uri: root?.uri ?? `${DEMO}/m.py`, kind: 'symbol', position: { line: 0, character: 0 } },
    root,
    roots: root ? [root] : [],
    depth: null,
    truncated: false,
    truncatedBy: null,
    unexpanded: 0,
    count: dependents.length,
    exactCount: dependents.filter((d) => d.confidence === 'exact').length,
    probableCount: dependents.filter((d) => d.confidence === 'probable').length,
    pendingChange: null,
    partial: false,
    files: [...files].map(([uri, ds]) => ({ uri, dependents: ds })),
    tests: dependents.filter((d) => d.isTest).map((d) => d.symbol),
    testFiles: [...new Set(dependents.filter((d) => d.isTest).map((d) => d.symbol.uri))],
    ...extra,
  };
}

/**
 * A small XML well-formedness check (Node has no XML parser): balanced tags, quoted attributes,
 * no duplicate attributes, no raw `<` or stray `&` in text or attribute values.
 * Returns the element names in document order.
 */
export function checkWellFormedXml(xml: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
  const checkText = (text: string, where: string) => {
    const stripped = text.replace(entity, '');
    if (stripped.includes('&')) throw new Error(`stray & in ${where}: ${text.slice(0, 80)}`);
    if (stripped.includes('<')) throw new Error(`raw < in ${where}: ${text.slice(0, 80)}`);
  };
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    if (lt === -1) {
      checkText(xml.slice(i), 'text');
      break;
    }
    checkText(xml.slice(i, lt), 'text');
    const gt = xml.indexOf('>', lt);
    if (gt === -1) throw new Error('unterminated tag');
    const tag = xml.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('?') || tag.startsWith('!')) continue;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open ?? 'nothing'}>`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const m = /^([A-Za-z][\w:.-]*)([\s\S]*)$/.exec(body);
    if (!m) throw new Error(`bad tag <${tag}>`);
    const name = m[1]!;
    const attrs = m[2]!.trim();
    const seen = new Set<string>();
    const attrRe = /([A-Za-z_:][\w:.-]*)\s*=\s*("([^"]*)"|'([^']*)')\s*/y;
    let pos = 0;
    while (pos < attrs.length) {
      attrRe.lastIndex = pos;
      const a = attrRe.exec(attrs);
      if (!a) throw new Error(`bad attributes in <${name}>: ${attrs.slice(pos, pos + 60)}`);
      if (seen.has(a[1]!)) throw new Error(`duplicate attribute ${a[1]} in <${name}>`);
      seen.add(a[1]!);
      checkText(a[3] ?? a[4] ?? '', `attribute ${a[1]}`);
      pos = attrRe.lastIndex;
    }
    names.push(name);
    if (!selfClosing) stack.push(name);
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return names;
}
