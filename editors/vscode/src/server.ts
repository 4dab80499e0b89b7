/**
 * How to start the server, from the settings: pure, so that it can be tested without VS Code.
 *
 * Order: `forge.serverPath` (the `forge-lsp` executable) > `forge.pythonPath` (an interpreter
 * with forge_lsp installed, run as `python -m forge_lsp serve`) > a `forge-lsp` inside the
 * first workspace folder's `.venv`/`venv` > `forge-lsp` on PATH.
 */

import { expandPath, pathFor } from './paths';

export interface ServerSettings {
  serverPath?: string | null;
  pythonPath?: string | null;
  serverArgs?: readonly string[] | null;
}

export interface ServerEnvironment {
  platform: string;
  home?: string;
  /** Workspace folder paths (file system paths), first one first. */
  workspaceFolders: readonly string[];
  env?: Record<string, string | undefined>;
  /** Whether a file exists (used only to find a workspace virtual environment). */
  exists?: (path: string) => boolean;
}

export type ServerSource = 'serverPath' | 'pythonPath' | 'workspaceVenv' | 'path';

/** Structurally a vscode-languageclient `Executable` (stdio transport). */
export interface ServerCommand {
  command: string;
  args: string[];
  options: { cwd?: string };
  source: ServerSource;
}

export const DEFAULT_EXECUTABLE = 'forge-lsp';

function nonEmpty(value: string | null | undefined): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/** The virtual environments looked for in the first workspace folder, in order. */
export function venvCandidates(folder: string, platform: string): string[] {
  const p = pathFor(platform);
  const exe = platform === 'win32' ? p.join('Scripts', 'forge-lsp.exe') : p.join('bin', 'forge-lsp');
  return ['.venv', 'venv'].map((dir) => p.join(folder, dir, exe));
}

export function resolveServerCommand(settings: ServerSettings, environment: ServerEnvironment): ServerCommand {
  const folder = environment.workspaceFolders[0];
  const ctx = { home: environment.home, workspaceFolder: folder, env: environment.env };
  const extra = (settings.serverArgs ?? []).filter((a): a is string => typeof a === 'string').map((a) => expandPath(a, ctx));
  const options = folder !== undefined ? { cwd: folder } : {};
  if (nonEmpty(settings.serverPath)) {
    return { command: expandPath(settings.serverPath, ctx), args: ['serve', ...extra], options, source: 'serverPath' };
  }
  if (nonEmpty(settings.pythonPath)) {
    return {
      command: expandPath(settings.pythonPath, ctx),
      args: ['-m', 'forge_lsp', 'serve', ...extra],
      options,
      source: 'pythonPath',
    };
  }
  if (folder !== undefined && environment.exists) {
    for (const candidate of venvCandidates(folder, environment.platform)) {
      if (environment.exists(candidate)) {
        return { command: candidate, args: ['serve', ...extra], options, source: 'workspaceVenv' };
      }
    }
  }
  return { command: DEFAULT_EXECUTABLE, args: ['serve', ...extra], options, source: 'path' };
}

/** The command line as one string, for logs and messages (arguments with spaces quoted). */
export function commandLine(command: ServerCommand): string {
  return [command.command, ...command.args].map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' ');
}

/** A user-facing explanation of why the server did not start. */
export function describeStartFailure(error: unknown, command: ServerCommand): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const line = commandLine(command);
  if (code === 'ENOENT' || /ENOENT/.test(message)) {
    switch (command.source) {
      case 'serverPath':
        return `forge-lsp could not be started: forge.serverPath "${command.command}" does not exist.`;
      case 'pythonPath':
        return `forge-lsp could not be started: forge.pythonPath "${command.command}" does not exist.`;
      default:
        return (
          'forge-lsp could not be started: "forge-lsp" was not found on PATH. ' +
          'Install it from a checkout of forge-lsp (pip install /path/to/forge-lsp) or set forge.pythonPath to an interpreter that has it.'
        );
    }
  }
  if (code === 'EACCES' || /EACCES/.test(message)) {
    return `forge-lsp could not be started: "${command.command}" is not executable.`;
  }
  if (/EPIPE|ERR_STREAM_DESTROYED|connection got disposed|Connection is closed|stream was destroyed/i.test(`${String(code)} ${message}`)) {
    const hint =
      command.source === 'pythonPath'
        ? ` Is forge_lsp installed in ${command.command}? (${command.command} -m pip install /path/to/forge-lsp)`
        : '';
    return `forge-lsp exited while starting (${line}); its output is in "Forge: Show Server Output".${hint}`;
  }
  return `forge-lsp could not be started (${line}): ${message}`;
}

/**
 * Whether to start the server again after its connection closed: never when it did not get as far
 * as answering `initialize` (it would only fail again), else up to `maxRestarts` times within
 * `windowMs`.
 */
export class RestartPolicy {
  private restarts: number[] = [];

  constructor(
    private readonly maxRestarts = 4,
    private readonly windowMs = 3 * 60 * 1000,
  ) {}

  onClosed(now: number, wasRunning: boolean): { restart: boolean; message?: string } {
    if (!wasRunning) return { restart: false };
    this.restarts = this.restarts.filter((t) => now - t < this.windowMs);
    if (this.restarts.length >= this.maxRestarts) {
      return {
        restart: false,
        message: `forge-lsp stopped ${this.restarts.length + 1} times in ${Math.round(this.windowMs / 60000)} minutes and will not be restarted. See "Forge: Show Server Output"; "Forge: Restart Server" tries again.`,
      };
    }
    this.restarts.push(now);
    return { restart: true };
  }
}
