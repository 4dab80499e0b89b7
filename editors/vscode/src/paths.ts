/** Small, pure helpers for file URIs and user-written paths (no `vscode` import). */

import * as path from 'node:path';

export interface FolderInfo {
  /** The folder's URI as the server sees it (`file:///…`). */
  uri: string;
  name: string;
}

/** `file:///a/b%20c` → `/a/b c` (POSIX) or `c:\a\b c` (Windows drive URIs). Other schemes: unchanged. */
export function uriToPath(uri: string): string {
  if (!uri.startsWith('file://')) return uri;
  let rest = uri.slice('file://'.length);
  // file://host/share → UNC; file:///x → local
  const authorityEnd = rest.indexOf('/');
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  rest = authorityEnd === -1 ? '/' : rest.slice(authorityEnd);
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    decoded = rest;
  }
  if (/^\/[A-Za-z]:/.test(decoded)) {
    return decoded.slice(1, 2).toLowerCase() + decoded.slice(2).replace(/\//g, '\\');
  }
  return authority ? `//${authority}${decoded}` : decoded;
}

function trimSlash(s: string): string {
  return s.endsWith('/') ? s.slice(0, -1) : s;
}

/**
 * A short label for a file: relative to the innermost workspace folder that contains it,
 * prefixed with the folder's name when there are several folders; else the full path.
 */
export function relativeLabel(uri: string, folders: readonly FolderInfo[]): string {
  let best: FolderInfo | undefined;
  for (const folder of folders) {
    const base = trimSlash(folder.uri);
    if (uri.startsWith(base + '/') && (!best || base.length > trimSlash(best.uri).length)) {
      best = folder;
    }
  }
  if (!best) return uriToPath(uri);
  const rel = decodeSafe(uri.slice(trimSlash(best.uri).length + 1));
  return folders.length > 1 ? `${best.name}/${rel}` : rel;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The last segment of a URI's path, decoded. */
export function baseName(uri: string): string {
  const clean = trimSlash(uri);
  return decodeSafe(clean.slice(clean.lastIndexOf('/') + 1));
}

export interface ExpandContext {
  home?: string;
  workspaceFolder?: string;
  env?: Record<string, string | undefined>;
}

/**
 * Expands what users write in path settings: a leading `~`, `${userHome}`,
 * `${workspaceFolder}` and `${env:NAME}`. Unknown variables are left as they are.
 */
export function expandPath(value: string, ctx: ExpandContext): string {
  let out = value.trim();
  if (ctx.home && (out === '~' || out.startsWith('~/') || out.startsWith('~\\'))) {
    out = ctx.home + out.slice(1);
  }
  out = out.replace(/\$\{(userHome|workspaceFolder|env:([A-Za-z_][A-Za-z0-9_]*))\}/g, (match, name: string, envName?: string) => {
    if (name === 'userHome') return ctx.home ?? match;
    if (name === 'workspaceFolder') return ctx.workspaceFolder ?? match;
    if (envName !== undefined) return ctx.env?.[envName] ?? '';
    return match;
  });
  return out;
}

/** `path.posix` or `path.win32`, whichever the platform uses. */
export function pathFor(platform: string): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}
