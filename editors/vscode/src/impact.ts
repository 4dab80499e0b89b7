/**
 * A `forge/impact` result → what the extension shows: tree nodes (files → dependents → the path
 * that reaches each one, then the tests) and a graph (nodes and edges) for the picture.
 *
 * Pure: no `vscode` import. The tree provider turns these nodes into TreeItems one to one.
 */

import { baseName, relativeLabel, type FolderInfo } from './paths';
import type { Dependent, Edge, ImpactResult, Item, Location, Range } from './protocol';

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
  import: 'package',
  inherit: 'type-hierarchy-sub',
  decorate: 'symbol-color',
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
  const path = dependent.path ?? [];
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
  return {
    id: `${owner}/step:${index}`,
    kind: 'step',
    label: `${from} → ${to}`,
    description: `${edge.kind}${probable ? ' (probable)' : ''} · ${where}`,
    tooltip: `${codeSpan(from)} ${edge.kind === 'call' ? 'calls' : `${edge.kind}s`} ${codeSpan(to)} at ${escapeMarkdown(where)}${
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
    children: (d.path ?? []).map((edge, i) => stepNode(id, i, edge, byId)),
    expanded: false,
  };
}

function byLine(a: Dependent, b: Dependent): number {
  const la = (a.symbol.selectionRange ?? a.symbol.range)?.start.line ?? 0;
  const lb = (b.symbol.selectionRange ?? b.symbol.range)?.start.line ?? 0;
  return la - lb || displayName(a.symbol).localeCompare(displayName(b.symbol));
}

/** A one-line summary of a result, for the view's message and the graph's title. */
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
  const parts = [
    `${subject}: ${plural(result.count ?? 0, 'dependent')} in ${plural(fileCount, 'file')}`,
    `${plural((result.tests ?? []).length, 'test')}`,
    `depth ≤ ${result.depth}`,
  ];
  if (result.truncated) parts.push('truncated');
  if (result.partial) parts.push('partial');
  return parts.join(' · ');
}

/** Tree nodes for a result: notices, the files with their dependents, then the tests. */
export function impactTree(result: ImpactResult, options: TreeOptions = {}): ImpactNode[] {
  const folders = options.folders ?? [];
  const byId = symbolIndex(result);
  const nodes: ImpactNode[] = [];

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
  if (result.truncated) {
    nodes.push({
      id: 'notice:truncated',
      kind: 'notice',
      label: 'Truncated',
      description: `stopped after ${plural(result.count ?? 0, 'dependent')} (forge.impact.maxNodes)`,
      tooltip: 'The walk reached maxNodes. Raise `forge.impact.maxNodes` or lower `forge.impact.depth` to see everything.',
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
      tooltip: 'Put the cursor on a definition or a use of a function, method, class or variable.',
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
      description: result.partial ? 'so far' : `nothing uses it (depth ≤ ${result.depth})`,
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

  const testsNode = testsGroup(result, byId, folders);
  if (testsNode) nodes.push(testsNode);
  return nodes;
}

/** "Tests": each test file reached, with the test functions reached in it. */
export function testsGroup(result: ImpactResult, byId: Map<number, Item>, folders: readonly FolderInfo[] = []): ImpactNode | undefined {
  const tests = result.tests ?? [];
  const fileUris = [...(result.testFiles ?? [])];
  for (const t of tests) if (!fileUris.includes(t.uri)) fileUris.push(t.uri);
  if (tests.length === 0 && fileUris.length === 0) return undefined;

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
    label: 'Tests',
    description: `${plural(tests.length, 'test')} in ${plural(fileUris.length, 'file')}`,
    icon: 'beaker',
    tone: 'test',
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
    for (const e of d.path ?? []) {
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
    partial: !!result.partial,
  };
}
