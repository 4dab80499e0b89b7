/**
 * The language client: starts forge-lsp from the settings, tracks `$/progress` and
 * `forge/status` for the status bar, and sends the custom requests.
 */

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  WorkDoneProgress,
  WorkDoneProgressCreateRequest,
  type ClientCapabilities,
  type FeatureState,
  type LanguageClientOptions,
  type StaticFeature,
} from 'vscode-languageclient/node';
import { Methods, type ProgressValue, type StatusResult } from './protocol';
import { commandLine, describeStartFailure, resolveServerCommand, RestartPolicy, type ServerCommand } from './server';
import { explicitValue, toInitializationOptions } from './settings';
import { applyProgress, NO_PROGRESS, pollInterval, pruneStaleProgress, type ClientPhase, type ProgressState, type StatusInput } from './status';

export const CLIENT_ID = 'forge'; // so `forge.trace.server` is the trace setting
const CLIENT_NAME = 'Forge LSP';

/**
 * Takes over `window/workDoneProgress/create` (registered after the built-in progress feature,
 * so it replaces its handler) and reports every `$/progress` value to the extension, which
 * shows it in its own status bar item instead of a second, anonymous one.
 */
class ProgressFeature implements StaticFeature {
  private subscriptions = new Map<string, vscode.Disposable>();

  constructor(
    private readonly client: LanguageClient,
    private readonly onValue: (token: string, value: ProgressValue) => void,
  ) {}

  fillClientCapabilities(capabilities: ClientCapabilities): void {
    capabilities.window = capabilities.window ?? {};
    capabilities.window.workDoneProgress = true;
  }

  initialize(): void {
    this.client.onRequest(WorkDoneProgressCreateRequest.type, (params) => {
      const token = String(params.token);
      this.subscriptions.get(token)?.dispose();
      const subscription = this.client.onProgress(WorkDoneProgress.type, params.token, (value) => {
        this.onValue(token, value as ProgressValue);
        if (value.kind === 'end') {
          subscription.dispose();
          this.subscriptions.delete(token);
        }
      });
      this.subscriptions.set(token, subscription);
    });
  }

  getState(): FeatureState {
    return { kind: 'static' };
  }

  clear(): void {
    for (const s of this.subscriptions.values()) s.dispose();
    this.subscriptions.clear();
  }
}

export class ForgeClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private phase: ClientPhase = 'stopped';
  private progress: ProgressState = NO_PROGRESS;
  private status: StatusResult | undefined;
  private error: string | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly changed = new vscode.EventEmitter<StatusInput>();
  private readonly progressChanged = new vscode.EventEmitter<{ token: string; value: ProgressValue }>();
  private starting: Promise<void> | undefined;
  command: ServerCommand | undefined;

  /** Fires whenever what the status bar shows may have changed. */
  readonly onDidChange = this.changed.event;
  /** Every `$/progress` value. */
  readonly onProgress = this.progressChanged.event;

  constructor(readonly output: vscode.OutputChannel) {}

  get state(): StatusInput {
    return { phase: this.phase, status: this.status, progress: this.progress, error: this.error };
  }

  get running(): boolean {
    return this.phase === 'running' && this.client !== undefined;
  }

  async start(): Promise<void> {
    if (this.starting) return this.starting;
    this.starting = this.doStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const config = vscode.workspace.getConfiguration('forge');
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    const command = resolveServerCommand(
      {
        serverPath: config.get<string | null>('serverPath'),
        pythonPath: config.get<string | null>('pythonPath'),
        serverArgs: config.get<string[] | null>('serverArgs'),
      },
      {
        platform: process.platform,
        home: os.homedir(),
        workspaceFolders: folders,
        env: process.env,
        // A workspace's own .venv is a program chosen by the workspace: only when it is trusted.
        exists: vscode.workspace.isTrusted
          ? (p) => {
              try {
                return fs.statSync(p).isFile();
              } catch {
                return false;
              }
            }
          : undefined,
      },
    );
    this.command = command;
    const { options, problems } = toInitializationOptions((key) => explicitValue(config.inspect(key)), {
      home: os.homedir(),
      workspaceFolder: folders[0],
      env: process.env,
    });
    for (const problem of problems) {
      this.output.appendLine(`[settings] ${problem}`);
      void vscode.window.showWarningMessage(`Forge: ${problem}`);
    }
    this.output.appendLine(`[client] starting: ${commandLine(command)} (from ${command.source})`);
    this.output.appendLine(`[client] initializationOptions: ${JSON.stringify(options)}`);

    const restarts = new RestartPolicy();
    let initError: unknown;
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file', language: 'python' }],
      initializationOptions: options,
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      markdown: { isTrusted: false },
      // While starting, failures are reported once, by start(); a crash later restarts the
      // server a few times, quietly (the status bar shows it), then gives up with a message.
      errorHandler: {
        error: (_error, _message, count) => ({
          action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
          handled: true,
        }),
        closed: () => {
          const decision = restarts.onClosed(Date.now(), this.phase === 'running');
          if (decision.message) this.output.appendLine(`[client] ${decision.message}`);
          return decision.restart
            ? { action: CloseAction.Restart, handled: true }
            : { action: CloseAction.DoNotRestart, message: decision.message, handled: decision.message === undefined };
        },
      },
      initializationFailedHandler: (error) => {
        initError = error;
        return false;
      },
    };
    const client = new LanguageClient(CLIENT_ID, CLIENT_NAME, { command: command.command, args: command.args, options: command.options }, clientOptions);
    client.registerFeature(new ProgressFeature(client, (token, value) => this.handleProgress(token, value)));
    client.onDidChangeState((e) => {
      if (this.client !== client) return;
      if (e.newState === State.Stopped && this.phase === 'running') {
        this.setPhase('stopped', 'The server stopped. See the output for why.');
      } else if (e.newState === State.Running && this.phase === 'stopped') {
        // vscode-languageclient restarted a crashed server by itself.
        this.error = undefined;
        this.setPhase('running');
        void this.refreshStatus();
      }
    });
    this.client = client;
    this.progress = NO_PROGRESS;
    this.status = undefined;
    this.error = undefined;
    this.setPhase('starting');
    try {
      await client.start();
      // vscode-languageclient 9 resolves start() when the connection closed before `initialize`
      // failed (a server that exits at once): only a running client counts as started.
      if (!client.isRunning()) throw initError ?? new Error('the server stopped while starting');
    } catch (error) {
      const message = describeStartFailure(error, command);
      this.output.appendLine(`[client] ${message}`);
      this.client = undefined;
      this.setPhase('failed', message);
      void vscode.window.showErrorMessage(message, 'Open Settings', 'Show Output').then((choice) => {
        if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'forge.');
        if (choice === 'Show Output') this.output.show(true);
      });
      return;
    }
    this.setPhase('running');
    void this.refreshStatus();
  }

  async stop(): Promise<void> {
    this.clearPoll();
    const client = this.client;
    this.client = undefined;
    this.progress = NO_PROGRESS;
    if (client) {
      try {
        await client.stop(30_000);
      } catch (error) {
        this.output.appendLine(`[client] stop: ${String(error)}`);
      }
    }
    this.setPhase('stopped');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Sends a request; starts the server first if it is not running. */
  async request<R>(method: string, params: unknown, token?: vscode.CancellationToken): Promise<R> {
    if (!this.running) await this.start();
    const client = this.client;
    if (!client || this.phase !== 'running') throw new Error(this.error ?? 'forge-lsp is not running');
    return client.sendRequest<R>(method, params, token);
  }

  /** The client's converters (VS Code ↔ LSP positions and URIs). */
  get converters(): Pick<LanguageClient, 'code2ProtocolConverter' | 'protocol2CodeConverter'> | undefined {
    return this.client;
  }

  async refreshStatus(): Promise<StatusResult | undefined> {
    this.clearPoll();
    if (!this.running) return undefined;
    try {
      this.status = await this.client!.sendRequest<StatusResult>(Methods.status, {});
      this.progress = pruneStaleProgress(this.progress, this.status);
    } catch (error) {
      this.output.appendLine(`[client] forge/status failed: ${String(error)}`);
    }
    this.changed.fire(this.state);
    this.schedulePoll();
    return this.status;
  }

  setStatus(status: StatusResult): void {
    this.status = status;
    this.changed.fire(this.state);
  }

  private handleProgress(token: string, value: ProgressValue): void {
    this.progress = applyProgress(this.progress, token, value);
    this.progressChanged.fire({ token, value });
    this.changed.fire(this.state);
    if (value.kind === 'end') void this.refreshStatus();
  }

  private setPhase(phase: ClientPhase, error?: string): void {
    this.phase = phase;
    if (error !== undefined) this.error = error;
    if (phase !== 'running') this.clearPoll();
    this.changed.fire(this.state);
  }

  private schedulePoll(): void {
    const every = pollInterval(this.state);
    if (every === undefined) return;
    this.pollTimer = setTimeout(() => void this.refreshStatus(), every);
  }

  private clearPoll(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
  }

  dispose(): void {
    this.clearPoll();
    void this.client?.dispose();
    this.changed.dispose();
    this.progressChanged.dispose();
  }
}
