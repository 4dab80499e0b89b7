/** The status bar item and the read-only *Forge: Show Status* document. */

import * as vscode from 'vscode';
import type { ForgeClient } from './client';
import { commandLine } from './server';
import { statusBarView, statusReport } from './status';

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly forge: ForgeClient) {
    this.item = vscode.window.createStatusBarItem('forge.status', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'Forge LSP';
    this.item.command = 'forge.showStatus';
    this.subscription = forge.onDidChange(() => this.update());
    this.update();
    this.item.show();
  }

  update(): void {
    const state = this.forge.state;
    const view = statusBarView(state);
    this.item.text = view.text;
    const tooltip = new vscode.MarkdownString(view.tooltip);
    tooltip.isTrusted = false;
    tooltip.supportThemeIcons = true;
    this.item.tooltip = tooltip;
    this.item.command = state.phase === 'failed' || state.phase === 'stopped' ? 'forge.showOutput' : 'forge.showStatus';
    this.item.backgroundColor =
      view.severity === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : view.severity === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}

/** `forge-status:/status.md`: the current forge/status as a Markdown report, re-read on open. */
export class StatusDocument implements vscode.TextDocumentContentProvider, vscode.Disposable {
  static readonly scheme = 'forge-status';
  static readonly uri = vscode.Uri.parse(`${StatusDocument.scheme}:/forge-lsp%20status.md`);
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;

  constructor(private readonly forge: ForgeClient) {}

  async provideTextDocumentContent(): Promise<string> {
    const status = await this.forge.refreshStatus();
    if (!status) {
      const state = this.forge.state;
      return `# forge-lsp\n\nThe server is ${state.phase}.${state.error ? `\n\n${state.error}` : ''}\n`;
    }
    return statusReport(status, this.forge.command ? commandLine(this.forge.command) : undefined);
  }

  refresh(): void {
    this.emitter.fire(StatusDocument.uri);
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
