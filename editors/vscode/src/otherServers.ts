/**
 * Other Python language servers that answer Find All References and Go to Definition too.
 * With one of them installed and `forge.leaveToOtherServers` not chosen, the extension offers,
 * once, to leave those two requests to it (docs/lsp.md, "Beside another Python server").
 */

export const OTHER_PYTHON_SERVERS: readonly { id: string; name: string }[] = [
  { id: 'ms-python.vscode-pylance', name: 'Pylance' },
  { id: 'detachhead.basedpyright', name: 'basedpyright' },
  { id: 'ms-pyright.pyright', name: 'Pyright' },
];

/** globalState key: the user answered "Don't ask again". */
export const LEAVE_SUGGESTION_DISMISSED = 'forge.leaveSuggestionDismissed';

/** What the suggestion sets: the two requests both servers answer. */
export const LEFT_BY_SUGGESTION = ['references', 'definition'] as const;

/**
 * The name of the other server to suggest leaving references and definitions to, or undefined:
 * none is installed, the user already chose `forge.leaveToOtherServers` (any value, `[]` too),
 * or asked not to be asked again.
 */
export function serverToLeaveTo(installed: (id: string) => boolean, chosen: boolean, dismissed: boolean): string | undefined {
  if (chosen || dismissed) return undefined;
  return OTHER_PYTHON_SERVERS.find((server) => installed(server.id))?.name;
}
