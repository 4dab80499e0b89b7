/** The impact graph picture in a webview panel (one panel, reused). */

import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import { makeNonce, renderGraphHtml, renderImpactSvg } from './graph';
import { impactGraph, type ImpactGraph } from './impact';
import type { ImpactResult } from './protocol';
import { toVsLocation, workspaceFolderInfos } from './impactView';

export class GraphPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private graph: ImpactGraph | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  get visible(): boolean {
    return this.panel !== undefined;
  }

  show(result: ImpactResult, maxNodes: number): void {
    this.graph = impactGraph(result, { folders: workspaceFolderInfos(), maxNodes });
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel(
        'forge.impactGraph',
        'Impact graph',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        { enableScripts: true, localResourceRoots: [], retainContextWhenHidden: false },
      );
      this.panel.onDidDispose(() => (this.panel = undefined), null, this.disposables);
      this.panel.webview.onDidReceiveMessage((message: unknown) => this.onMessage(message), null, this.disposables);
    }
    this.render();
    this.panel.reveal(undefined, true);
  }

  /** Re-draws an open panel with a new result (does nothing when the panel is closed). */
  update(result: ImpactResult, maxNodes: number): void {
    if (this.panel) this.show(result, maxNodes);
  }

  private render(): void {
    if (!this.panel || !this.graph) return;
    const nonce = makeNonce((n) => crypto.randomBytes(n));
    const { svg } = renderImpactSvg(this.graph, { nonce });
    this.panel.title = `Impact: ${this.graph.nodes.find((n) => n.isRoot)?.label ?? 'graph'}`;
    this.panel.webview.html = renderGraphHtml({ nonce, title: this.graph.title, svg, interactive: true });
  }

  private onMessage(message: unknown): void {
    if (typeof message !== 'object' || message === null) return;
    const { type, id } = message as { type?: unknown; id?: unknown };
    if (type !== 'open' || typeof id !== 'number') return;
    const node = this.graph?.nodes.find((n) => n.id === id);
    if (!node) return;
    const { uri, range } = toVsLocation(node.location);
    void vscode.window.showTextDocument(uri, { selection: range, viewColumn: vscode.ViewColumn.One });
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
