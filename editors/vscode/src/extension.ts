/**
 * Activation: wires the language client, the status bar, the Impact view, the graph panel and
 * the commands together. The logic lives in the pure modules (settings, server, impact, graph,
 * status); this file only connects them to VS Code.
 */

import * as vscode from 'vscode';
import { ForgeClient } from './client';
import { GraphPanel } from './graphPanel';
import { displayName } from './impact';
import { ImpactTreeProvider, workspaceFolderInfos, type ImpactQuery } from './impactView';
import { relativeLabel } from './paths';
import { Methods, type ImpactParams, type ImpactResult, type ReindexParams, type StatusResult } from './protocol';
import { LEAVE_SUGGESTION_DISMISSED, LEFT_BY_SUGGESTION, serverToLeaveTo } from './otherServers';
import { explicitValue, impactRequestOptions, needsRestart } from './settings';
import { reindexOutcome } from './status';
import { StatusBar, StatusDocument } from './statusBar';

let forge: ForgeClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('Forge LSP');
  forge = new ForgeClient(output);
  const client = forge;
  const tree = new ImpactTreeProvider();
  const treeView = vscode.window.createTreeView('forge.impact', { treeDataProvider: tree, showCollapseAll: true });
  const graph = new GraphPanel();
  const statusDoc = new StatusDocument(client);

  context.subscriptions.push(
    output,
    client,
    tree,
    treeView,
    graph,
    statusDoc,
    new StatusBar(client),
    vscode.workspace.registerTextDocumentContentProvider(StatusDocument.scheme, statusDoc),
  );

  const graphMaxNodes = () => vscode.workspace.getConfiguration('forge').get<number>('impact.graphMaxNodes', 300);

  async function runImpact(query: ImpactQuery): Promise<void> {
    let result: ImpactResult;
    try {
      result = await vscode.window.withProgress(
        { location: { viewId: 'forge.impact' }, title: `Impact of ${query.label}` },
        (_progress, token) => client.request<ImpactResult>(Methods.impact, query.params, token),
      );
    } catch (error) {
      void vscode.window.showErrorMessage(`Forge: impact of ${query.label} failed: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    tree.set(result, query);
    treeView.message = tree.message();
    treeView.description = result.root ? displayName(result.root) : query.label;
    await vscode.commands.executeCommand('forge.impact.focus');
    const openGraph = vscode.workspace.getConfiguration('forge').get<boolean>('impact.openGraph', false);
    if (openGraph) graph.show(result, graphMaxNodes());
    else graph.update(result, graphMaxNodes());
  }

  function impactParams(uri: vscode.Uri, position: vscode.Position | undefined): ImpactParams {
    const config = vscode.workspace.getConfiguration('forge');
    const read = (key: string) => (key === 'impact.includeProbable' ? explicitValue(config.inspect(key)) : config.get(key));
    const asUri = client.converters?.code2ProtocolConverter.asUri(uri) ?? uri.toString();
    const params: ImpactParams = { textDocument: { uri: asUri }, ...impactRequestOptions(read) };
    if (position) params.position = { line: position.line, character: position.character };
    return params;
  }

  async function showImpact(arg: unknown, wholeFile: boolean): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    let uri: vscode.Uri | undefined;
    let position: vscode.Position | undefined;
    if (arg instanceof vscode.Uri && (!editor || editor.document.uri.toString() !== arg.toString())) {
      uri = arg; // from the explorer: the whole file
    } else if (editor) {
      uri = editor.document.uri;
      position = wholeFile ? undefined : editor.selection.active;
    }
    if (!uri) {
      void vscode.window.showInformationMessage('Forge: open a Python file and put the cursor on a symbol first.');
      return;
    }
    if (uri.scheme !== 'file') {
      void vscode.window.showInformationMessage('Forge: impact works on files saved in the workspace.');
      return;
    }
    if (!client.running) await client.start();
    const file = relativeLabel(uri.toString(), workspaceFolderInfos());
    const label = position ? `${file}:${position.line + 1}:${position.character + 1}` : file;
    await runImpact({ params: impactParams(uri, position), label });
  }

  async function reindex(): Promise<void> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    let params: ReindexParams = {};
    if (folders.length > 1) {
      const all = { label: 'All folders', folder: undefined as vscode.WorkspaceFolder | undefined };
      const pick = await vscode.window.showQuickPick([all, ...folders.map((f) => ({ label: f.name, description: f.uri.fsPath, folder: f }))], {
        title: 'Forge: Reindex',
        placeHolder: 'Delete the graph and index from scratch',
      });
      if (!pick) return;
      if (pick.folder) params = { folder: client.converters?.code2ProtocolConverter.asUri(pick.folder.uri) ?? pick.folder.uri.toString() };
    }
    try {
      const status = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Forge: rebuilding the graph' },
        async (progress, token) => {
          const sub = client.onProgress(({ value }) => {
            if (value.kind !== 'end' && value.message) progress.report({ message: value.message });
          });
          try {
            return await client.request<StatusResult>(Methods.reindex, params, token);
          } finally {
            sub.dispose();
          }
        },
      );
      client.setStatus(status);
      const outcome = reindexOutcome(status);
      if (outcome.ok) void vscode.window.showInformationMessage(outcome.message);
      else {
        void vscode.window.showErrorMessage(outcome.message, 'Show Output').then((choice) => choice && output.show(true));
        void client.refreshStatus();
      }
    } catch (error) {
      void vscode.window.showErrorMessage(`Forge: reindex failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async function showStatus(): Promise<void> {
    if (!client.running && client.state.phase !== 'starting') {
      const choice = await vscode.window.showWarningMessage(`Forge: the server is ${client.state.phase}.`, 'Start', 'Show Output');
      if (choice === 'Start') await client.start();
      if (choice === 'Show Output') output.show(true);
      if (!client.running) return;
    }
    statusDoc.refresh();
    const doc = await vscode.workspace.openTextDocument(StatusDocument.uri);
    await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: false });
  }

  context.subscriptions.push(
    vscode.commands.registerCommand('forge.showImpact', (arg?: unknown) => showImpact(arg, false)),
    vscode.commands.registerCommand('forge.showFileImpact', (arg?: unknown) => showImpact(arg, true)),
    vscode.commands.registerCommand('forge.refreshImpact', async () => {
      if (tree.query) await runImpact(tree.query);
    }),
    vscode.commands.registerCommand('forge.clearImpact', () => {
      tree.set(undefined, undefined);
      treeView.message = undefined;
      treeView.description = undefined;
    }),
    vscode.commands.registerCommand('forge.showImpactGraph', () => {
      if (!tree.result) {
        void vscode.window.showInformationMessage('Forge: run "Forge: Show Impact" first.');
        return;
      }
      graph.show(tree.result, graphMaxNodes());
    }),
    vscode.commands.registerCommand('forge.reindex', reindex),
    vscode.commands.registerCommand('forge.showStatus', showStatus),
    vscode.commands.registerCommand('forge.restartServer', () => client.restart()),
    vscode.commands.registerCommand('forge.showOutput', () => output.show(true)),
    // Trusting the workspace may change the server (its .venv, its settings): start again.
    vscode.workspace.onDidGrantWorkspaceTrust(() => void client.restart()),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!needsRestart((section) => event.affectsConfiguration(section))) return;
      const choice = await vscode.window.showInformationMessage('Forge: the server settings changed. Restart forge-lsp to apply them?', 'Restart');
      if (choice === 'Restart') await client.restart();
    }),
  );

  void vscode.commands.executeCommand('setContext', 'forge.hasImpact', false);
  void client.start();
  void suggestLeavingToOtherServer(context);
}

/** Once: with Pylance (or basedpyright, Pyright) installed, offer to leave it references and
 * definitions, which both servers answer (forge.leaveToOtherServers). */
async function suggestLeavingToOtherServer(context: vscode.ExtensionContext): Promise<void> {
  const config = vscode.workspace.getConfiguration('forge');
  const name = serverToLeaveTo(
    (id) => vscode.extensions.getExtension(id) !== undefined,
    explicitValue(config.inspect('leaveToOtherServers')) !== undefined,
    context.globalState.get<boolean>(LEAVE_SUGGESTION_DISMISSED, false) === true,
  );
  if (!name) return;
  const leave = `Leave them to ${name}`;
  const never = "Don't ask again";
  const choice = await vscode.window.showInformationMessage(
    `Forge: ${name} also answers Find All References and Go to Definition. Leave those to ${name} and keep Forge for call hierarchy, impact and status?`,
    leave,
    'Keep both',
    never,
  );
  if (choice === leave) {
    await config.update('leaveToOtherServers', [...LEFT_BY_SUGGESTION], vscode.ConfigurationTarget.Global);
  } else if (choice === never || choice === 'Keep both') {
    await context.globalState.update(LEAVE_SUGGESTION_DISMISSED, true);
  }
}

export async function deactivate(): Promise<void> {
  await forge?.stop();
  forge = undefined;
}
