/**
 * A `forge/impact` result → what the extension shows: tree nodes (files → dependents → the path
 * that reaches each one, then the tests) and a graph (nodes and edges) for the picture.
 *
 * Pure: no `vscode` import. The tree provider turns these nodes into TreeItems one to one.
 */

import { baseName, relativeLabel, type FolderInfo } from './paths';
import type { Dependent, Edge, ImpactResult, Item, Location, PendingChange, Range } from './protocol';

export type NodeKind = 'notice' | 'root' | 'file' | 'dependent' | 'step' | 'tests' | 'testFile' | 'test';

export interface ImpactNode {
  /** Unique within one tree, stable for the same result (keeps expansion state). */
  id: string;
  kind: NodeKind;
  label: string;
  description?: string;
  /** Markdown. */
  tooltip?: string;
  /** A codicon id (`symbol-method`, `beaker`, …). */
  icon?: string;
  /** `warning` notices and probable dependents are drawn in the warning colour. */
  tone?: 'warning' | 'test' | 'info';
  /** Where a click goes. */
  location?: Location;
  /** A file node's URI (for its file icon). */
  resourceUri?: string;
  children: ImpactNode[];
  expanded?: boolean;
}

export interface TreeOptions {
  folders?: readonly FolderInfo[];
}

const KIND_ICONS: Record<string, string> = {
  module: 'symbol-module',
  class: 'symbol-class',
  function: 'symbol-function',
  method: 'symbol-method',
  variable: 'symbol-variable',
  field: 'symbol-field',
};

const EDGE_ICONS: Record<string, string> = {
  call: 'call-incoming',
  read: 'eye',
  write: 'edit',
  attribute: 'symbol-property',
  import: 'package',
  inherit: 'type-hierarchy-sub',
  decorate: 'symbol-color',
  fixture: 'beaker',
  construct: 'symbol-constructor',
  protocol: 'symbol-interface',
  module: 'symbol-module',
  're-export': 'export',
  autouse: 'beaker',
  setup: 'gear',
  member: 'symbol-class',
};

/** How a step reads in its tooltip: `from` <verb> `to` <after>. */
const EDGE_VERBS: Record<string, [verb: string, after?: string]> = {
  call: ['calls'],
  read: ['reads'],
  write: ['writes'],
  attribute: ['uses the attribute'],
  import: ['imports'],
  inherit: ['inherits from'],
  decorate: ['is decorated by'],
  fixture: ['uses the fixture'],
  construct: ['runs', 'by constructing its class'],
  protocol: ['runs', 'through syntax (`with`, `for`, `in`, `==`, …)'],
  module: ['is bound by the module-level code of'],
  're-export': ['uses a name re-exported by'],
  autouse: ['runs the autouse fixture'],
  setup: ['runs', 'first (set-up)'],
  member: ['is a test of the class'],
};

export function symbolIcon(kind: string): string {
  return KIND_ICONS[kind] ?? 'symbol-misc';
}

export function edgeIcon(kind: string): string {
  return EDGE_ICONS[kind] ?? 'arrow-small-left';
}

/** The name shown for a symbol: its qualified name; a module's is its file name. */
export function displayName(item: Pick<Item, 'name' | 'qualname' | 'uri' | 'kind'>): string {
  if (item.qualname) return item.qualname;
  if (item.name) return item.name;
  return item.kind === 'module' ? baseName(item.uri) : '?';
}

/** Every symbol of the result by id: roots, the root, dependents and tests. */
export function symbolIndex(result: ImpactResult): Map<number, Item> {
  const byId = new Map<number, Item>();
  const add = (item: Item | null | undefined) => {
    if (item && !byId.has(item.id)) byId.set(item.id, item);
  };
  add(result.root);
  for (const r of result.roots ?? []) add(r);
  for (const file of result.files ?? []) for (const d of file.dependents ?? []) add(d.symbol);
  for (const t of result.tests ?? []) add(t);
  return byId;
}

function nameOf(id: number, byId: Map<number, Item>): string {
  const item = byId.get(id);
  return item ? displayName(item) : `#${id}`;
}

/** `Order.total ←call— with_vat ←call— Checkout.pay`: from the root out to the dependent. */
export function pathText(dependent: Dependent, byId: Map<number, Item>): string {
  const path = dependent.chain ?? [];
  if (path.length === 0) return displayName(dependent.symbol);
  const parts = [nameOf(path[0]!.to, byId)];
  for (const edge of path) {
    const probable = edge.confidence === 'probable' ? '?' : '';
    parts.push(`←${edge.kind}${probable}— ${nameOf(edge.from, byId)}`);
  }
  return parts.join(' ');
}

/** 1-based `file.py:12` for a position in a URI. */
export function shortLocation(uri: string, range: Range | undefined): string {
  const line = range ? `:${range.start.line + 1}` : '';
  return `${baseName(uri)}${line}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function allDependents(result: ImpactResult): Dependent[] {
  return (result.files ?? []).flatMap((f) => f.dependents ?? []);
}

/** `6 dependents (6 exact, 0 probable)`; the counts are computed when the server leaves them out. */
export function countText(result: ImpactResult): string {
  const dependents = allDependents(result);
  const count = result.count ?? dependents.length;
  const probable = result.probableCount ?? dependents.filter((d) => d.confidence === 'probable').length;
  const exact = result.exactCount ?? count - probable;
  return `${plural(count, 'dependent')} (${exact} exact, ${probable} probable)`;
}

/** Why the walk stopped early, or undefined when it did not. */
export function cutOffText(result: ImpactResult): string | undefined {
  if (!result.truncated && !result.truncatedBy) return undefined;
  const left = `${plural(result.unexpanded ?? 0, 'node')} not expanded`;
  if (result.truncatedBy === 'depth') return `cut off at depth ${result.depth ?? '?'}: ${left}`;
  return `cut off at the node limit: ${left}`;
}

/** `tests reached: 3`, also when there are none. */
export function testsReachedText(result: ImpactResult): string {
  return `tests reached: ${(result.tests ?? []).length}`;
}

/** The unsaved edit's effect on the symbol, when the document has one. */
export function pendingChangeOf(result: ImpactResult): PendingChange | undefined {
  const pending = result.pendingChange;
  return pending && typeof pending.summary === 'string' ? pending : undefined;
}

function codeSpan(text: string): string {
  // A backtick run longer than any inside the text.
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]()<>|~]/g, (c) => `\\${c}`);
}

function itemLocation(item: Item): Location {
  return { uri: item.uri, range: item.selectionRange ?? item.range };
}

function dependentDescription(d: Dependent): string {
  const parts = [`depth ${d.depth}`];
  if (d.isTest) parts.push('test');
  if (d.confidence === 'probable') parts.push('probable');
  return parts.join(' · ');
}

function stepNode(owner: string, index: number, edge: Edge, byId: Map<number, Item>): ImpactNode {
  const from = nameOf(edge.from, byId);
  const to = nameOf(edge.to, byId);
  const where = shortLocation(edge.location.uri, edge.location.range);
  const probable = edge.confidence === 'probable';
  const [verb, after] = EDGE_VERBS[edge.kind] ?? [`${edge.kind}s`];
  return {
    id: `${owner}/step:${index}`,
    kind: 'step',
    label: `${from} → ${to}`,
    description: `${edge.kind}${probable ? ' (probable)' : ''} · ${where}`,
    tooltip: `${codeSpan(from)} ${verb} ${codeSpan(to)}${after ? ` ${after}` : ''} at ${escapeMarkdown(where)}${
      probable ? ' (probable: the receiver type is unknown)' : ''
    }`,
    icon: edgeIcon(edge.kind),
    tone: probable ? 'warning' : undefined,
    location: edge.location,
    children: [],
  };
}

function dependentNode(fileUri: string, d: Dependent, byId: Map<number, Item>): ImpactNode {
  const id = `dep:${fileUri}#${d.symbol.id}`;
  const chain = pathText(d, byId);
  const lines = [
    `**${escapeMarkdown(displayName(d.symbol))}** — ${d.symbol.kind}, depth ${d.depth}${d.isTest ? ', test' : ''}, ${d.confidence}`,
  ];
  if (d.symbol.detail) lines.push('', codeSpan(d.symbol.detail));
  lines.push('', codeSpan(chain));
  return {
    id,
    kind: 'dependent',
    label: displayName(d.symbol),
    description: dependentDescription(d),
    tooltip: lines.join('\n'),
    icon: d.isTest ? 'beaker' : symbolIcon(d.symbol.kind),
    tone: d.confidence === 'probable' ? 'warning' : d.isTest ? 'test' : undefined,
    location: itemLocation(d.symbol),
    children: (d.chain ?? []).map((edge, i) => stepNode(id, i, edge, byId)),
    expanded: false,
  };
}

function byLine(a: Dependent, b: Dependent): number {
  const la = (a.symbol.selectionRange ?? a.symbol.range)?.start.line ?? 0;
  const lb = (b.symbol.selectionRange ?? b.symbol.range)?.start.line ?? 0;
  return la - lb || displayName(a.symbol).localeCompare(displayName(b.symbol));
}

/**
 * A one-line summary of a result, for the view's message and the graph's title:
 * `Order.total: 6 dependents (6 exact, 0 probable) in 3 files · tests reached: 3`, then how the
 * walk stopped early (or the depth it was limited to) and whether the answer is partial.
 */
export function summary(result: ImpactResult, folders: readonly FolderInfo[] = []): string {
  const subject = result.root
    ? displayName(result.root)
    : result.target
      ? relativeLabel(result.target.uri, folders)
      : 'the selection';
  if (!result.root && (result.roots ?? []).length === 0) {
    return result.target?.kind === 'file' ? `${subject}: not indexed (yet)` : 'No symbol at this position';
  }
  const fileCount = (result.files ?? []).filter((f) => (f.dependents ?? []).length > 0).length;
  const parts = [`${subject}: ${countText(result)} in ${plural(fileCount, 'file')}`, testsReachedText(result)];
  const cutOff = cutOffText(result);
  if (cutOff) parts.push(cutOff);
  else if (typeof result.depth === 'number') parts.push(`depth ≤ ${result.depth}`);
  if (result.partial) parts.push('partial');
  return parts.join(' · ');
}

/** The view's message: the unsaved edit's effect first, when there is one, then the summary. */
export function viewMessage(result: ImpactResult, folders: readonly FolderInfo[] = []): string {
  const pending = pendingChangeOf(result);
  const text = summary(result, folders);
  return pending ? `Unsaved edit: ${pending.summary} — ${text}` : text;
}

/** Tree nodes for a result: notices, the files with their dependents, then the tests. */
export function impactTree(result: ImpactResult, options: TreeOptions = {}): ImpactNode[] {
  const folders = options.folders ?? [];
  const byId = symbolIndex(result);
  const nodes: ImpactNode[] = [];

  const unsaved = pendingChangeOf(result);
  if (unsaved) {
    const body = unsaved.change === 'body';
    const names = (unsaved.symbols ?? []).map(codeSpan).join(', ');
    nodes.push({
      id: 'notice:pendingChange',
      kind: 'notice',
      label: 'Unsaved edit',
      description: unsaved.summary,
      tooltip:
        `**${escapeMarkdown(unsaved.summary)}**\n\n` +
        (body
          ? 'The unsaved edit changes only the body: callers need no change, but the tests that reach it may now behave differently.'
          : `The unsaved edit changes the interface (${escapeMarkdown(unsaved.reason)}): every caller may need a change.`) +
        (names ? `\n\nChanged: ${names}` : ''),
      icon: body ? 'edit' : 'warning',
      tone: body ? 'info' : 'warning',
      children: [],
    });
  }
  if (result.partial) {
    const pending = result.pending ?? [];
    nodes.push({
      id: 'notice:partial',
      kind: 'notice',
      label: 'Partial result',
      description: pending.length > 0 ? `${plural(pending.length, 'edited file')} not yet in the graph` : 'indexing is under way',
      tooltip:
        pending.length > 0
          ? `Editor changes could not be applied in time:\n\n${pending.map((u) => `- ${escapeMarkdown(relativeLabel(u, folders))}`).join('\n')}`
          : 'The graph is still being built: dependents may be missing. Run Show Impact again when indexing is done.',
      icon: 'warning',
      tone: 'warning',
      children: [],
    });
  }
  const cutOff = cutOffText(result);
  if (cutOff) {
    const byDepth = result.truncatedBy === 'depth';
    nodes.push({
      id: 'notice:truncated',
      kind: 'notice',
      label: 'Cut off',
      description: cutOff.replace(/^cut off /, ''),
      tooltip: byDepth
        ? `The walk stopped at depth ${result.depth} (\`forge.impact.depth\`): what depends on the nodes it did not expand is not listed. Clear \`forge.impact.depth\` to walk until nothing new depends on the symbol.`
        : `The walk stopped after ${plural(result.count ?? 0, 'dependent')} (\`forge.impact.maxNodes\`): what depends on the nodes it did not expand is not listed. Raise \`forge.impact.maxNodes\` to see everything.`,
      icon: 'warning',
      tone: 'warning',
      children: [],
    });
  }

  const roots = result.roots ?? [];
  if (!result.root && roots.length === 0) {
    nodes.push({
      id: 'notice:empty',
      kind: 'notice',
      label: result.target?.kind === 'file' ? 'Nothing indexed in this file' : 'No symbol at this position',
      description: result.target ? relativeLabel(result.target.uri, folders) : undefined,
      tooltip: 'The file is not in the graph (yet): it is outside every workspace folder, excluded, or still being indexed. Inside a function or class, Show Impact asks about it; elsewhere, about the whole file.',
      icon: 'info',
      tone: 'info',
      children: [],
    });
    return nodes;
  }

  if (result.root) {
    const rootNode: ImpactNode = {
      id: `root:${result.root.id}`,
      kind: 'root',
      label: displayName(result.root),
      description: `${result.root.kind} · ${plural(result.count ?? 0, 'dependent')}`,
      tooltip: result.root.detail ? codeSpan(result.root.detail) : undefined,
      icon: 'target',
      location: itemLocation(result.root),
      children: [],
    };
    const others = roots.filter((r) => r.id !== result.root!.id);
    if (others.length > 0) {
      rootNode.description += ` · walk starts from ${plural(roots.length, 'symbol')}`;
      rootNode.children = others.map((r) => ({
        id: `root:${result.root!.id}/${r.id}`,
        kind: 'root' as const,
        label: displayName(r),
        description: r.kind,
        icon: symbolIcon(r.kind),
        location: itemLocation(r),
        children: [],
      }));
      rootNode.expanded = false;
    }
    nodes.push(rootNode);
  }

  const files = (result.files ?? []).filter((f) => (f.dependents ?? []).length > 0);
  if (files.length === 0) {
    nodes.push({
      id: 'notice:none',
      kind: 'notice',
      label: 'No dependents',
      description: result.partial
        ? 'so far'
        : typeof result.depth === 'number'
          ? `nothing depends on it within depth ${result.depth}`
          : 'nothing depends on it',
      icon: 'pass',
      tone: 'info',
      children: [],
    });
  }
  for (const file of files) {
    const dependents = [...file.dependents].sort(byLine);
    const tests = dependents.filter((d) => d.isTest).length;
    nodes.push({
      id: `file:${file.uri}`,
      kind: 'file',
      label: relativeLabel(file.uri, folders),
      description: plural(dependents.length, 'dependent') + (tests > 0 ? ` · ${plural(tests, 'test')}` : ''),
      resourceUri: file.uri,
      location: { uri: file.uri, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } },
      children: dependents.map((d) => dependentNode(file.uri, d, byId)),
      expanded: true,
    });
  }

  nodes.push(testsGroup(result, byId, folders));
  return nodes;
}

/** "Tests reached: N" (also when N is 0): each test file reached, with its test functions. */
export function testsGroup(result: ImpactResult, byId: Map<number, Item>, folders: readonly FolderInfo[] = []): ImpactNode {
  const tests = result.tests ?? [];
  const fileUris = [...(result.testFiles ?? [])];
  for (const t of tests) if (!fileUris.includes(t.uri)) fileUris.push(t.uri);

  const dependentById = new Map<number, Dependent>();
  for (const f of result.files ?? []) for (const d of f.dependents ?? []) dependentById.set(d.symbol.id, d);

  const children: ImpactNode[] = fileUris.map((uri) => {
    const inFile = tests.filter((t) => t.uri === uri).sort((a, b) => a.range.start.line - b.range.start.line);
    return {
      id: `testFile:${uri}`,
      kind: 'testFile' as const,
      label: relativeLabel(uri, folders),
      description: plural(inFile.length, 'test'),
      resourceUri: uri,
      location: { uri, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } },
      expanded: true,
      children: inFile.map((t) => {
        const d = dependentById.get(t.id);
        return {
          id: `test:${t.id}`,
          kind: 'test' as const,
          label: displayName(t),
          description: d ? `depth ${d.depth}${d.confidence === 'probable' ? ' · probable' : ''}` : undefined,
          tooltip: d ? codeSpan(pathText(d, byId)) : t.detail ? codeSpan(t.detail) : undefined,
          icon: 'beaker',
          tone: 'test' as const,
          location: itemLocation(t),
          children: [],
        };
      }),
    };
  });
  return {
    id: 'tests',
    kind: 'tests',
    label: `Tests reached: ${tests.length}`,
    description: fileUris.length > 0 ? `in ${plural(fileUris.length, 'file')}` : 'no test depends on it',
    icon: 'beaker',
    tone: tests.length > 0 ? 'test' : 'info',
    children,
    expanded: true,
  };
}

// ---------------------------------------------------------------------------------------------
// Graph

export interface GraphNode {
  id: number;
  label: string;
  kind: string;
  /** 0 for roots. */
  depth: number;
  isRoot: boolean;
  isTest: boolean;
  confidence: 'exact' | 'probable';
  /** `pricing.py:6`. */
  where: string;
  location: Location;
}

export interface GraphEdge {
  /** The dependent (user) … */
  from: number;
  /** … uses this symbol. */
  to: number;
  kind: string;
  confidence: 'exact' | 'probable';
}

export interface ImpactGraph {
  title: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Nodes left out because of the picture's size limit. */
  omitted: number;
  truncated: boolean;
  /** Why the walk stopped early (`cut off at depth 2: 5 nodes not expanded`), if it did. */
  cutOff?: string;
  /** The unsaved edit's summary (`body-only change: 3 tests reach it`), if any. */
  pendingChange?: string;
  partial: boolean;
}

export interface GraphOptions {
  folders?: readonly FolderInfo[];
  /** At most this many dependents are drawn (nearest first); default 300. */
  maxNodes?: number;
}

/**
 * The graph of a result: the root (and any other root that something reaches), every dependent,
 * and every edge of every path, once each. Dependents past `maxNodes` are left out, nearest kept.
 */
export function impactGraph(result: ImpactResult, options: GraphOptions = {}): ImpactGraph {
  const maxNodes = options.maxNodes ?? 300;
  const all: Dependent[] = [];
  for (const f of result.files ?? []) for (const d of f.dependents ?? []) all.push(d);
  all.sort((a, b) => a.depth - b.depth || (a.symbol.uri < b.symbol.uri ? -1 : a.symbol.uri > b.symbol.uri ? 1 : byLine(a, b)));
  const kept = all.slice(0, maxNodes);
  const keptIds = new Set(kept.map((d) => d.symbol.id));

  const rootIds = new Set((result.roots ?? []).map((r) => r.id));
  if (result.root) rootIds.add(result.root.id);

  const edges = new Map<string, GraphEdge>();
  const usedRoots = new Set<number>();
  for (const d of kept) {
    for (const e of d.chain ?? []) {
      const fromOk = keptIds.has(e.from) || rootIds.has(e.from);
      const toOk = keptIds.has(e.to) || rootIds.has(e.to);
      if (!fromOk || !toOk) continue;
      const key = `${e.from}>${e.to}>${e.kind}`;
      const existing = edges.get(key);
      if (!existing) edges.set(key, { from: e.from, to: e.to, kind: e.kind, confidence: e.confidence });
      else if (existing.confidence === 'probable' && e.confidence === 'exact') existing.confidence = 'exact';
      if (rootIds.has(e.to)) usedRoots.add(e.to);
      if (rootIds.has(e.from)) usedRoots.add(e.from);
    }
  }

  const nodes: GraphNode[] = [];
  const roots = [...(result.roots ?? [])];
  if (result.root && !roots.some((r) => r.id === result.root!.id)) roots.unshift(result.root);
  for (const r of roots) {
    if (r.id !== result.root?.id && !usedRoots.has(r.id)) continue;
    nodes.push({
      id: r.id,
      label: displayName(r),
      kind: r.kind,
      depth: 0,
      isRoot: true,
      isTest: false,
      confidence: 'exact',
      where: shortLocation(r.uri, r.selectionRange ?? r.range),
      location: itemLocation(r),
    });
  }
  const seen = new Set(nodes.map((n) => n.id));
  for (const d of kept) {
    if (seen.has(d.symbol.id)) continue;
    seen.add(d.symbol.id);
    nodes.push({
      id: d.symbol.id,
      label: displayName(d.symbol),
      kind: d.symbol.kind,
      depth: d.depth,
      isRoot: false,
      isTest: d.isTest,
      confidence: d.confidence,
      where: shortLocation(d.symbol.uri, d.symbol.selectionRange ?? d.symbol.range),
      location: itemLocation(d.symbol),
    });
  }
  // Edges only between drawn nodes.
  const drawn = new Set(nodes.map((n) => n.id));
  const edgeList = [...edges.values()].filter((e) => drawn.has(e.from) && drawn.has(e.to));
  return {
    title: summary(result, options.folders ?? []),
    nodes,
    edges: edgeList,
    omitted: all.length - kept.length,
    truncated: !!result.truncated,
    cutOff: cutOffText(result),
    pendingChange: pendingChangeOf(result)?.summary,
    partial: !!result.partial,
  };
}
