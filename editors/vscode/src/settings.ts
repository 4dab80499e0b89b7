/**
 * `forge.*` settings → the server's `initializationOptions` (docs/lsp.md, "initializationOptions").
 *
 * Only settings the user set explicitly are sent: the server's own defaults and each folder's
 * `[tool.forge-lsp]` in pyproject.toml then still apply (initializationOptions override them).
 * A value of the wrong type is left out with a problem message instead of being sent.
 */

import { expandPath, type ExpandContext } from './paths';

export type OptionType = 'path' | 'globs' | 'positiveInt' | 'nonNegativeInt' | 'boolean' | 'logLevel' | 'features';

export const LOG_LEVELS = ['error', 'warning', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What `leaveToOtherServers` may name (docs/lsp.md): requests Pylance or basedpyright answers too. */
export const LEAVABLE = ['references', 'definition', 'callHierarchy', 'documentSymbol', 'workspaceSymbol'] as const;
export type Leavable = (typeof LEAVABLE)[number];

export interface InitializationOptions {
  dbPath?: string;
  include?: string[];
  exclude?: string[];
  maxFileSize?: number;
  jobs?: number;
  includeProbable?: boolean;
  logLevel?: LogLevel;
  debounceMs?: number;
  freshnessTimeoutMs?: number;
  cacheSize?: number;
  watchFiles?: boolean;
  metricsLog?: boolean;
  leaveToOtherServers?: Leavable[];
}

export interface OptionSpec {
  /** The initializationOptions key. */
  key: keyof InitializationOptions;
  /** The setting, without the `forge.` prefix (the same name as the option). */
  setting: string;
  type: OptionType;
}

/** Every option of docs/lsp.md, in the order of its table. package.json mirrors this list. */
export const OPTION_SPECS: readonly OptionSpec[] = [
  { key: 'dbPath', setting: 'dbPath', type: 'path' },
  { key: 'include', setting: 'include', type: 'globs' },
  { key: 'exclude', setting: 'exclude', type: 'globs' },
  { key: 'maxFileSize', setting: 'maxFileSize', type: 'positiveInt' },
  { key: 'jobs', setting: 'jobs', type: 'positiveInt' },
  { key: 'includeProbable', setting: 'includeProbable', type: 'boolean' },
  { key: 'logLevel', setting: 'logLevel', type: 'logLevel' },
  { key: 'debounceMs', setting: 'debounceMs', type: 'nonNegativeInt' },
  { key: 'freshnessTimeoutMs', setting: 'freshnessTimeoutMs', type: 'positiveInt' },
  { key: 'cacheSize', setting: 'cacheSize', type: 'positiveInt' },
  { key: 'watchFiles', setting: 'watchFiles', type: 'boolean' },
  { key: 'metricsLog', setting: 'metricsLog', type: 'boolean' },
  { key: 'leaveToOtherServers', setting: 'leaveToOtherServers', type: 'features' },
];

/** Returns the value of `forge.<setting>` if the user set it (anywhere), else `undefined`. */
export type ReadSetting = (setting: string) => unknown;

export interface OptionsResult {
  options: InitializationOptions;
  problems: string[];
}

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function convert(spec: OptionSpec, value: unknown, ctx: ExpandContext): { ok: true; value: unknown } | { ok: false; why: string } {
  switch (spec.type) {
    case 'path':
      if (typeof value !== 'string') return { ok: false, why: 'a path (string)' };
      if (value.trim() === '') return { ok: true, value: undefined };
      return { ok: true, value: expandPath(value, ctx) };
    case 'globs': {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
        return { ok: false, why: 'a list of glob strings' };
      }
      return { ok: true, value: value.map((v: string) => v.trim()).filter((v) => v !== '') };
    }
    case 'positiveInt':
      if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
        return { ok: false, why: 'an integer > 0' };
      }
      return { ok: true, value };
    case 'nonNegativeInt':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        return { ok: false, why: 'an integer >= 0' };
      }
      return { ok: true, value };
    case 'boolean':
      if (typeof value !== 'boolean') return { ok: false, why: 'true or false' };
      return { ok: true, value };
    case 'logLevel':
      if (typeof value !== 'string' || !(LOG_LEVELS as readonly string[]).includes(value)) {
        return { ok: false, why: `one of ${LOG_LEVELS.join(', ')}` };
      }
      return { ok: true, value };
    case 'features':
      if (!Array.isArray(value) || !value.every((v) => (LEAVABLE as readonly unknown[]).includes(v))) {
        return { ok: false, why: `a list of ${LEAVABLE.join(', ')}` };
      }
      return { ok: true, value: [...new Set(value)] };
  }
}

/** Builds initializationOptions from the settings the user set; `null` counts as not set. */
export function toInitializationOptions(read: ReadSetting, ctx: ExpandContext = {}): OptionsResult {
  const options: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const spec of OPTION_SPECS) {
    const raw = read(spec.setting);
    if (raw === undefined || raw === null) continue;
    const converted = convert(spec, raw, ctx);
    if (!converted.ok) {
      problems.push(`forge.${spec.setting} should be ${converted.why}, not ${describe(raw)}; it is ignored`);
      continue;
    }
    if (converted.value !== undefined) options[spec.key] = converted.value;
  }
  return { options: options as InitializationOptions, problems };
}

/** The shape of `WorkspaceConfiguration.inspect()` that matters here. */
export interface InspectedValue<T = unknown> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

/** The value the user set explicitly (the most specific scope wins), or `undefined`. */
export function explicitValue<T>(inspected: InspectedValue<T> | undefined): T | undefined {
  if (!inspected) return undefined;
  if (inspected.workspaceFolderValue !== undefined) return inspected.workspaceFolderValue;
  if (inspected.workspaceValue !== undefined) return inspected.workspaceValue;
  return inspected.globalValue;
}

/** Settings whose change needs a server restart to take effect. */
export function needsRestart(affects: (section: string) => boolean): boolean {
  const restartKeys = ['serverPath', 'pythonPath', 'serverArgs', ...OPTION_SPECS.map((s) => s.setting)];
  return restartKeys.some((key) => affects(`forge.${key}`));
}

/** The limits `forge/impact` accepts (docs/lsp.md); the server answers InvalidParams outside them. */
export const MAX_IMPACT_DEPTH = 10000;
export const MAX_IMPACT_NODES = 1000000;

/**
 * Parameters of a Show Impact request from the `forge.impact.*` settings. No depth (unset, null
 * or out of range) is sent as none: the walk goes on until nothing new depends on the symbol,
 * under `maxNodes`. An out-of-range `maxNodes` is left out too (the server's default applies).
 */
export interface ImpactSettings {
  depth?: number;
  maxNodes?: number;
  includeProbable?: boolean;
}

function intIn(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max;
}

export function impactRequestOptions(read: ReadSetting): ImpactSettings {
  const out: ImpactSettings = {};
  const depth = read('impact.depth');
  if (intIn(depth, MAX_IMPACT_DEPTH)) out.depth = depth;
  const maxNodes = read('impact.maxNodes');
  if (intIn(maxNodes, MAX_IMPACT_NODES)) out.maxNodes = maxNodes;
  const probable = read('impact.includeProbable');
  if (typeof probable === 'boolean') out.includeProbable = probable;
  return out;
}
