/** The Impact tree view: one `forge/impact` result as files → dependents → paths, and tests. */

import * as vscode from 'vscode';
import { impactTree, viewMessage, type ImpactNode } from './impact';
import type { FolderInfo } from './paths';
import type { ImpactParams, ImpactResult, Location } from './protocol';

export interface ImpactQuery {
  params: ImpactParams;
  /** What the user asked about, for titles ("Order.total", "pricing.py"). */
  label: string;
}

export function workspaceFolderInfos(): FolderInfo[] {
  return (vscode.workspace.workspaceFolders ?? []).map((f) => ({ uri: f.uri.toString(), name: f.name }));
}

export function toVsLocation(location: Location): { uri: vscode.Uri; range: vscode.Range } {
  const r = location.range;
  return {
    uri: vscode.Uri.parse(location.uri),
    range: new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character),
  };
}

const TONE_COLORS: Record<string, string> = {
  warning: 'list.warningForeground',
  test: 'testing.iconPassed',
  info: 'descriptionForeground',
};

export class ImpactTreeProvider implements vscode.TreeDataProvider<ImpactNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<ImpactNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private roots: ImpactNode[] = [];
  private parents = new Map<string, ImpactNode>();
  result: ImpactResult | undefined;
  query: ImpactQuery | undefined;

  set(result: ImpactResult | undefined, query: ImpactQuery | undefined): void {
    this.result = result;
    this.query = query;
    this.roots = result ? impactTree(result, { folders: workspaceFolderInfos() }) : [];
    this.parents.clear();
    const walk = (node: ImpactNode) => {
      for (const child of node.children) {
        this.parents.set(child.id, node);
        walk(child);
      }
    };
    this.roots.forEach(walk);
    void vscode.commands.executeCommand('setContext', 'forge.hasImpact', result !== undefined);
    this.emitter.fire(undefined);
  }

  message(): string | undefined {
    return this.result ? viewMessage(this.result, workspaceFolderInfos()) : undefined;
  }

  getChildren(element?: ImpactNode): ImpactNode[] {
    return element ? element.children : this.roots;
  }

  getParent(element: ImpactNode): ImpactNode | undefined {
    return this.parents.get(element.id);
  }

  getTreeItem(node: ImpactNode): vscode.TreeItem {
    const state =
      node.children.length === 0
        ? vscode.TreeItemCollapsibleState.None
        : node.expanded === false
          ? vscode.TreeItemCollapsibleState.Collapsed
          : vscode.TreeItemCollapsibleState.Expanded;
    const item = new vscode.TreeItem(node.label, state);
    item.id = node.id;
    item.description = node.description;
    item.contextValue = `forge.${node.kind}`;
    if (node.tooltip) {
      const md = new vscode.MarkdownString(node.tooltip);
      md.isTrusted = false;
      item.tooltip = md;
    }
    if (node.resourceUri) {
      item.resourceUri = vscode.Uri.parse(node.resourceUri);
      item.iconPath = vscode.ThemeIcon.File;
    } else if (node.icon) {
      const color = node.tone ? TONE_COLORS[node.tone] : undefined;
      item.iconPath = new vscode.ThemeIcon(node.icon, color ? new vscode.ThemeColor(color) : undefined);
    }
    if (node.location) {
      const { uri, range } = toVsLocation(node.location);
      item.command = {
        command: 'vscode.open',
        title: 'Open',
        arguments: [uri, { selection: range, preserveFocus: true } satisfies vscode.TextDocumentShowOptions],
      };
    }
    return item;
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
