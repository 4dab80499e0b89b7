/**
 * The impact graph as a picture: a self-contained SVG string, laid out in columns by depth
 * (the changed symbol on the left, each further column one edge further away), and the HTML of
 * the webview that shows it, under a strict Content-Security-Policy (no remote anything).
 *
 * Pure: no `vscode` import, no DOM. Colours come from VS Code's theme variables, with fallbacks
 * for a light theme when the SVG is shown anywhere else.
 */

import type { GraphEdge, GraphNode, ImpactGraph } from './impact';

export interface SvgOptions {
  /** Put on the SVG's `<style>` so that a nonce-based CSP lets it through. */
  nonce?: string;
  /** Longest label drawn in full (longer ones end in "…"; the tooltip has all of it). */
  maxLabel?: number;
}

export interface RenderedSvg {
  svg: string;
  width: number;
  height: number;
}

export interface Layout {
  /** Top-left corner and size of each node's box, by node id. */
  boxes: Map<number, { x: number; y: number; w: number; h: number; column: number }>;
  columns: number[][];
  width: number;
  height: number;
}

const CHAR_W = 7.3; // 12px monospace
const SUB_CHAR_W = 6.1; // 10px monospace
const NODE_H = 40;
const V_GAP = 14;
const H_GAP = 110;
const PAD = 24;
const TITLE_H = 34;
const HEADER_H = 22;
const LEGEND_H = 34;

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, Math.max(1, max - 1)) + '…';
}

function subLine(n: GraphNode): string {
  return `${n.kind} · ${n.where}${n.isTest ? ' · test' : ''}${n.confidence === 'probable' ? ' · probable' : ''}`;
}

/** Columns by depth, ordered so that each node sits near what it uses; then coordinates. */
export function layoutGraph(graph: ImpactGraph, maxLabel = 44): Layout {
  const depthOf = new Map<number, number>();
  for (const n of graph.nodes) depthOf.set(n.id, n.depth);
  const maxDepth = Math.max(0, ...graph.nodes.map((n) => n.depth));
  const columns: number[][] = Array.from({ length: maxDepth + 1 }, () => []);
  for (const n of graph.nodes) columns[n.depth]!.push(n.id);

  // What each node uses in an earlier column (its parents on the paths).
  const parents = new Map<number, number[]>();
  for (const e of graph.edges) {
    const df = depthOf.get(e.from);
    const dt = depthOf.get(e.to);
    if (df === undefined || dt === undefined || dt >= df) continue;
    const list = parents.get(e.from) ?? [];
    list.push(e.to);
    parents.set(e.from, list);
  }

  const nodeById = new Map(graph.nodes.map((n) => [n.id, n] as const));
  const colWidth = columns.map((ids) =>
    Math.max(
      90,
      ...ids.map((id) => {
        const n = nodeById.get(id)!;
        return Math.max(clip(n.label, maxLabel).length * CHAR_W, clip(subLine(n), maxLabel + 8).length * SUB_CHAR_W) + 20;
      }),
    ),
  );
  const colX: number[] = [];
  let x = PAD;
  for (const w of colWidth) {
    colX.push(x);
    x += w + H_GAP;
  }
  const width = Math.max(x - H_GAP + PAD, 420);

  const top = PAD + TITLE_H + HEADER_H;
  const centre = new Map<number, number>();
  const boxes: Layout['boxes'] = new Map();
  columns.forEach((ids, c) => {
    const desired = new Map<number, number>();
    ids.forEach((id, i) => {
      const ps = (parents.get(id) ?? []).filter((p) => centre.has(p));
      desired.set(id, ps.length > 0 ? ps.reduce((s, p) => s + centre.get(p)!, 0) / ps.length : top + NODE_H / 2 + i * (NODE_H + V_GAP));
    });
    if (c > 0) {
      ids.sort((a, b) => desired.get(a)! - desired.get(b)! || nodeById.get(a)!.label.localeCompare(nodeById.get(b)!.label));
    }
    // Each node as near as it can be to what it uses, in order, never overlapping; then the
    // column slides up by its average overshoot (not above the top) so that it stays centred.
    const step = NODE_H + V_GAP;
    const want = ids.map((id) => desired.get(id)! - NODE_H / 2);
    const ys = [...want];
    const pushDown = () => {
      for (let i = 0; i < ys.length; i++) ys[i] = Math.max(ys[i]!, top, i > 0 ? ys[i - 1]! + step : top);
    };
    pushDown();
    if (ys.length > 0) {
      const overshoot = ys.reduce((s, y, i) => s + (y - want[i]!), 0) / ys.length;
      const shift = Math.min(overshoot, ys[0]! - top);
      for (let i = 0; i < ys.length; i++) ys[i] = ys[i]! - Math.max(0, shift);
      pushDown();
    }
    ids.forEach((id, i) => {
      const y = ys[i]!;
      boxes.set(id, { x: colX[c]!, y, w: colWidth[c]!, h: NODE_H, column: c });
      centre.set(id, y + NODE_H / 2);
    });
  });
  const bottom = Math.max(top + NODE_H, ...[...boxes.values()].map((b) => b.y + b.h));
  return { boxes, columns, width, height: bottom + V_GAP + LEGEND_H + PAD / 2 };
}

function bezier(x1: number, y1: number, x2: number, y2: number): { d: string; at: (t: number) => [number, number] } {
  const dx = Math.max(30, (x1 - x2) / 2);
  const c1x = x1 - dx;
  const c2x = x2 + dx;
  const at = (t: number): [number, number] => {
    const u = 1 - t;
    return [
      u * u * u * x1 + 3 * u * u * t * c1x + 3 * u * t * t * c2x + t * t * t * x2,
      u * u * u * y1 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y2,
    ];
  };
  const f = (v: number) => v.toFixed(1);
  return { d: `M${f(x1)},${f(y1)} C${f(c1x)},${f(y1)} ${f(c2x)},${f(y2)} ${f(x2)},${f(y2)}`, at };
}

export const GRAPH_CSS = `
.fg-bg { fill: var(--vscode-editor-background, #ffffff); }
.fg-title { font: 600 14px var(--vscode-font-family, system-ui, sans-serif); fill: var(--vscode-foreground, #1f1f1f); }
.fg-header { font: 11px var(--vscode-font-family, system-ui, sans-serif); fill: var(--vscode-descriptionForeground, #6b6b6b); text-transform: uppercase; letter-spacing: .06em; }
.fg-node rect { fill: var(--vscode-editorWidget-background, #f6f6f6); stroke: var(--vscode-editorWidget-border, #b9b9b9); stroke-width: 1; }
.fg-node.fg-root rect { stroke: var(--vscode-focusBorder, #0070c0); stroke-width: 2.5; }
.fg-node.fg-test rect { stroke: var(--vscode-testing-iconPassed, #2f8a3a); stroke-width: 2; fill: var(--vscode-diffEditor-insertedTextBackground, #eaf6ec); }
.fg-node.fg-probable rect { stroke-dasharray: 5 3; stroke: var(--vscode-editorWarning-foreground, #b58900); }
.fg-node { cursor: pointer; }
.fg-node:hover rect, .fg-node:focus rect { stroke: var(--vscode-focusBorder, #0070c0); stroke-width: 2.5; outline: none; }
.fg-node:focus { outline: none; }
.fg-label { font: 600 12px var(--vscode-editor-font-family, ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace); fill: var(--vscode-foreground, #1f1f1f); }
.fg-sub { font: 10px var(--vscode-editor-font-family, ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace); fill: var(--vscode-descriptionForeground, #6b6b6b); }
.fg-edge { fill: none; stroke: var(--vscode-editorLineNumber-foreground, #8c8c8c); stroke-width: 1.4; }
.fg-edge.fg-probable { stroke-dasharray: 5 3; stroke: var(--vscode-editorWarning-foreground, #b58900); }
.fg-arrow { fill: var(--vscode-editorLineNumber-foreground, #8c8c8c); }
.fg-kind { font: 10px var(--vscode-font-family, system-ui, sans-serif); fill: var(--vscode-descriptionForeground, #5a5a5a); }
.fg-kind-bg { fill: var(--vscode-editor-background, #ffffff); opacity: .85; }
.fg-legend { font: 11px var(--vscode-font-family, system-ui, sans-serif); fill: var(--vscode-descriptionForeground, #6b6b6b); }
.fg-note { font: 11px var(--vscode-font-family, system-ui, sans-serif); fill: var(--vscode-editorWarning-foreground, #9a6700); }
`;

/** The graph as one SVG document (a string), every label escaped. */
export function renderImpactSvg(graph: ImpactGraph, options: SvgOptions = {}): RenderedSvg {
  const maxLabel = options.maxLabel ?? 44;
  const layout = layoutGraph(graph, maxLabel);
  const { width, height, boxes } = layout;
  const nodeById = new Map(graph.nodes.map((n) => [n.id, n] as const));
  const out: string[] = [];
  const nonce = options.nonce ? ` nonce="${escapeXml(options.nonce)}"` : '';
  const f = (v: number) => v.toFixed(1);

  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="fg-graph" width="${Math.ceil(width)}" height="${Math.ceil(height)}" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" role="img" aria-label="${escapeXml(graph.title)}">`,
  );
  out.push(`<style${nonce}>${GRAPH_CSS}</style>`);
  out.push(
    '<defs><marker id="fg-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">' +
      '<path class="fg-arrow" d="M0,0 L10,5 L0,10 z"/></marker></defs>',
  );
  out.push(`<rect class="fg-bg" x="0" y="0" width="${Math.ceil(width)}" height="${Math.ceil(height)}"/>`);
  out.push(`<text class="fg-title" x="${PAD}" y="${PAD + 14}">${escapeXml(graph.title)}</text>`);

  // Column headers.
  layout.columns.forEach((ids, c) => {
    const first = ids[0];
    if (first === undefined) return;
    const box = boxes.get(first)!;
    const label = c === 0 ? 'changed' : `depth ${c}`;
    out.push(`<text class="fg-header" x="${f(box.x)}" y="${PAD + TITLE_H + 10}">${label}</text>`);
  });

  // Edges first, under the nodes: from the dependent's left side to the used symbol's right side.
  const labels: string[] = [];
  for (const e of graph.edges) {
    const a = boxes.get(e.from);
    const b = boxes.get(e.to);
    if (!a || !b) continue;
    const curve = bezier(a.x, a.y + a.h / 2, b.x + b.w, b.y + b.h / 2);
    const cls = e.confidence === 'probable' ? 'fg-edge fg-probable' : 'fg-edge';
    out.push(
      `<path class="${cls}" d="${curve.d}" marker-end="url(#fg-arrow)" data-from="${e.from}" data-to="${e.to}"><title>${escapeXml(
        edgeTitle(e, nodeById),
      )}</title></path>`,
    );
    const [lx, ly] = curve.at(0.22);
    const text = escapeXml(e.kind + (e.confidence === 'probable' ? '?' : ''));
    const tw = (e.kind.length + (e.confidence === 'probable' ? 1 : 0)) * 6 + 6;
    labels.push(
      `<rect class="fg-kind-bg" x="${f(lx - tw / 2)}" y="${f(ly - 8)}" width="${f(tw)}" height="12" rx="3"/>` +
        `<text class="fg-kind" x="${f(lx)}" y="${f(ly + 1.5)}" text-anchor="middle">${text}</text>`,
    );
  }
  out.push(...labels);

  for (const n of graph.nodes) {
    const box = boxes.get(n.id)!;
    const classes = ['fg-node'];
    if (n.isRoot) classes.push('fg-root');
    if (n.isTest) classes.push('fg-test');
    if (n.confidence === 'probable') classes.push('fg-probable');
    const tip = `${n.label}\n${n.kind} · ${n.where}${n.isTest ? ' · test' : ''}${n.isRoot ? '' : ` · depth ${n.depth}`}${
      n.confidence === 'probable' ? ' · probable' : ''
    }`;
    out.push(
      `<g class="${classes.join(' ')}" data-id="${n.id}" tabindex="0" role="button" aria-label="${escapeXml(n.label)}">` +
        `<title>${escapeXml(tip)}</title>` +
        `<rect x="${f(box.x)}" y="${f(box.y)}" width="${f(box.w)}" height="${f(box.h)}" rx="5"/>` +
        `<text class="fg-label" x="${f(box.x + 10)}" y="${f(box.y + 17)}">${escapeXml(clip(n.label, maxLabel))}</text>` +
        `<text class="fg-sub" x="${f(box.x + 10)}" y="${f(box.y + 31)}">${escapeXml(clip(subLine(n), maxLabel + 8))}</text>` +
        `</g>`,
    );
  }

  // Legend and notes.
  const ly = height - PAD / 2 - LEGEND_H + 16;
  const notes: string[] = [];
  if (graph.pendingChange) notes.push(`unsaved edit: ${graph.pendingChange}`);
  if (graph.cutOff) notes.push(graph.cutOff);
  else if (graph.truncated) notes.push('cut off');
  if (graph.omitted > 0) notes.push(`${graph.omitted} more not drawn`);
  if (graph.partial) notes.push('partial: indexing or edits pending');
  out.push(
    `<text class="fg-legend" x="${PAD}" y="${f(ly)}">A → B: A depends on B (call, read, construct, fixture, …). Blue: the changed symbol · green: tests · dashed: probable. Click a box to open it.</text>`,
  );
  if (notes.length > 0) out.push(`<text class="fg-note" x="${PAD}" y="${f(ly + 15)}">${escapeXml(notes.join(' · '))}</text>`);
  out.push('</svg>');
  return { svg: out.join('\n'), width: Math.ceil(width), height: Math.ceil(height) };
}

function edgeTitle(e: GraphEdge, nodes: Map<number, GraphNode>): string {
  const from = nodes.get(e.from)?.label ?? `#${e.from}`;
  const to = nodes.get(e.to)?.label ?? `#${e.to}`;
  return `${from} ${e.kind} ${to}${e.confidence === 'probable' ? ' (probable)' : ''}`;
}

export interface HtmlOptions {
  /** A fresh random value per render; allows exactly this page's style and script. */
  nonce: string;
  title: string;
  svg: string;
  /** Adds the zoom buttons and the click-to-open script (off for a static picture). */
  interactive?: boolean;
}

/** The webview page: the SVG, zoom buttons and a script that reports clicks on nodes. */
export function renderGraphHtml(options: HtmlOptions): string {
  const nonce = escapeXml(options.nonce);
  const csp = [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    'img-src data:',
    "font-src 'none'",
    "connect-src 'none'",
    "frame-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
  const interactive = options.interactive !== false;
  const toolbar = interactive
    ? `<div class="toolbar"><button id="zoom-out" title="Zoom out">−</button><button id="zoom-reset" title="Actual size">100%</button><button id="zoom-in" title="Zoom in">+</button></div>`
    : '';
  const script = interactive
    ? `<script nonce="${nonce}">
(function () {
  const vscode = acquireVsCodeApi();
  const svg = document.querySelector('svg.fg-graph');
  const baseW = svg.width.baseVal.value, baseH = svg.height.baseVal.value;
  let scale = 1;
  function zoom(next) {
    scale = Math.min(3, Math.max(0.25, next));
    svg.setAttribute('width', String(baseW * scale));
    svg.setAttribute('height', String(baseH * scale));
    document.getElementById('zoom-reset').textContent = Math.round(scale * 100) + '%';
  }
  document.getElementById('zoom-in').addEventListener('click', () => zoom(scale * 1.25));
  document.getElementById('zoom-out').addEventListener('click', () => zoom(scale / 1.25));
  document.getElementById('zoom-reset').addEventListener('click', () => zoom(1));
  function open(el) { vscode.postMessage({ type: 'open', id: Number(el.getAttribute('data-id')) }); }
  for (const el of document.querySelectorAll('[data-id]')) {
    el.addEventListener('click', () => open(el));
    el.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); open(el); } });
  }
})();
</script>`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeXml(options.title)}</title>
<style nonce="${nonce}">
html, body { margin: 0; padding: 0; background: var(--vscode-editor-background, #ffffff); color: var(--vscode-foreground, #1f1f1f); }
.toolbar { position: fixed; top: 8px; right: 12px; display: flex; gap: 4px; z-index: 1; }
.toolbar button { font: 12px var(--vscode-font-family, system-ui, sans-serif); min-width: 30px; padding: 2px 8px; border: 1px solid var(--vscode-button-border, transparent); color: var(--vscode-button-secondaryForeground, #1f1f1f); background: var(--vscode-button-secondaryBackground, #e5e5e5); border-radius: 2px; cursor: pointer; }
.toolbar button:hover { background: var(--vscode-button-secondaryHoverBackground, #d5d5d5); }
.canvas { overflow: auto; }
svg { display: block; }
</style>
</head>
<body>
${toolbar}
<div class="canvas">
${options.svg}
</div>
${script}
</body>
</html>
`;
}

/** A random nonce for the CSP (base64url of 16 random bytes from `randomBytes`). */
export function makeNonce(randomBytes: (n: number) => Uint8Array): string {
  return Buffer.from(randomBytes(16)).toString('base64url');
}
