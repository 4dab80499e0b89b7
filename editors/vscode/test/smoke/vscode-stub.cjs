/**
 * Just enough of the `vscode` API to run the real extension bundle (and vscode-languageclient)
 * in plain Node against the real server: real EventEmitter/Uri/Range/…, recorded status bar,
 * tree views, webviews, messages and commands; anything else is a do-nothing stub.
 * Used by test/smoke/smoke.mjs only.
 */
'use strict';
const path = require('node:path');
const { pathToFileURL, fileURLToPath } = require('node:url');

function stub(name) {
  const fn = function () {};
  return new Proxy(fn, {
    get(_t, prop) {
      if (prop === 'then') return undefined; // not a thenable
      if (prop === Symbol.toPrimitive) return () => 0;
      if (prop === Symbol.iterator) return function* () {};
      if (prop === 'dispose') return () => {};
      if (prop === 'toString') return () => `[stub ${name}]`;
      return stub(`${name}.${String(prop)}`);
    },
    apply() {
      return stub(`${name}()`);
    },
    construct() {
      return stub(`new ${name}`);
    },
  });
}

function withFallback(name, real) {
  return new Proxy(real, {
    get(target, prop) {
      if (prop in target) return target[prop];
      if (prop === 'then' || typeof prop === 'symbol') return undefined;
      return stub(`${name}.${String(prop)}`);
    },
  });
}

class Disposable {
  constructor(fn) {
    this._fn = fn;
  }
  static from(...items) {
    return new Disposable(() => items.forEach((i) => i && i.dispose && i.dispose()));
  }
  dispose() {
    if (this._fn) this._fn();
    this._fn = undefined;
  }
}

class EventEmitter {
  constructor() {
    this._listeners = new Set();
    this.event = (listener, thisArg, disposables) => {
      const bound = thisArg ? listener.bind(thisArg) : listener;
      this._listeners.add(bound);
      const d = new Disposable(() => this._listeners.delete(bound));
      if (Array.isArray(disposables)) disposables.push(d);
      return d;
    };
  }
  fire(value) {
    for (const l of [...this._listeners]) l(value);
  }
  dispose() {
    this._listeners.clear();
  }
}

class Uri {
  constructor(scheme, authority, p, query, fragment) {
    this.scheme = scheme;
    this.authority = authority || '';
    this.path = p || '';
    this.query = query || '';
    this.fragment = fragment || '';
  }
  static parse(value) {
    const m = /^([a-zA-Z][\w+.-]*):(\/\/([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?$/.exec(value);
    if (!m) throw new Error(`bad uri ${value}`);
    return new Uri(m[1], m[3], decodeURIComponent(m[4]), m[6], m[8]);
  }
  static file(p) {
    return new Uri('file', '', pathToFileURL(p).pathname.split('/').map(decodeURIComponent).join('/'));
  }
  static joinPath(base, ...parts) {
    return new Uri(base.scheme, base.authority, path.posix.join(base.path, ...parts));
  }
  get fsPath() {
    return this.scheme === 'file' ? fileURLToPath(`file://${this.path.split('/').map(encodeURIComponent).join('/')}`) : this.path;
  }
  with(change) {
    return new Uri(change.scheme ?? this.scheme, change.authority ?? this.authority, change.path ?? this.path, change.query ?? this.query, change.fragment ?? this.fragment);
  }
  toString() {
    const p = this.path.split('/').map(encodeURIComponent).join('/');
    return `${this.scheme}:${this.scheme === 'file' || this.authority ? `//${this.authority}` : ''}${p}${this.query ? `?${this.query}` : ''}${this.fragment ? `#${this.fragment}` : ''}`;
  }
  toJSON() {
    return this.toString();
  }
}

class Position {
  constructor(line, character) {
    this.line = line;
    this.character = character;
  }
}
class Range {
  constructor(a, b, c, d) {
    if (typeof a === 'number') {
      this.start = new Position(a, b);
      this.end = new Position(c, d);
    } else {
      this.start = a;
      this.end = b;
    }
  }
}
class Selection extends Range {
  constructor(anchor, active) {
    super(anchor, active);
    this.anchor = anchor;
    this.active = active;
  }
}
class Location {
  constructor(uri, range) {
    this.uri = uri;
    this.range = range;
  }
}
class MarkdownString {
  constructor(value = '') {
    this.value = value;
  }
  appendMarkdown(v) {
    this.value += v;
    return this;
  }
  appendText(v) {
    this.value += v;
    return this;
  }
  appendCodeblock(v) {
    this.value += `\n\`\`\`\n${v}\n\`\`\`\n`;
    return this;
  }
}
class ThemeIcon {
  constructor(id, color) {
    this.id = id;
    this.color = color;
  }
}
ThemeIcon.File = new ThemeIcon('file');
ThemeIcon.Folder = new ThemeIcon('folder');
class ThemeColor {
  constructor(id) {
    this.id = id;
  }
}
class TreeItem {
  constructor(label, collapsibleState) {
    this.label = label;
    this.collapsibleState = collapsibleState;
  }
}
class CancellationTokenSource {
  constructor() {
    const emitter = new EventEmitter();
    this._emitter = emitter;
    this.token = { isCancellationRequested: false, onCancellationRequested: emitter.event };
  }
  cancel() {
    this.token.isCancellationRequested = true;
    this._emitter.fire();
  }
  dispose() {}
}
class CancellationError extends Error {}

// ---- recorded state, read by the smoke test -------------------------------------------------
const recorded = {
  settings: {},
  folders: [],
  commands: new Map(),
  statusItems: [],
  statusTexts: [],
  treeViews: new Map(),
  webviews: [],
  messages: [],
  output: [],
  contentProviders: new Map(),
  context: new Map(),
  activeTextEditor: undefined,
  // Fired by the smoke test to open and edit documents (vscode-languageclient syncs them).
  documents: { open: new EventEmitter(), change: new EventEmitter(), close: new EventEmitter() },
};

function configuration(section) {
  const full = (key) => (section ? `${section}.${key}` : key);
  return {
    get(key, defaultValue) {
      const v = recorded.settings[full(key)];
      return v === undefined ? defaultValue : v;
    },
    has(key) {
      return full(key) in recorded.settings;
    },
    inspect(key) {
      const v = recorded.settings[full(key)];
      return { key: full(key), globalValue: v };
    },
    update() {
      return Promise.resolve();
    },
  };
}

function outputChannel(name) {
  const lines = [];
  recorded.output.push({ name, lines });
  return withFallback('OutputChannel', {
    name,
    append: (s) => lines.push(s),
    appendLine: (s) => lines.push(s),
    replace: () => {},
    clear: () => {},
    show: () => {},
    hide: () => {},
    dispose: () => {},
    // LogOutputChannel
    trace: (s) => lines.push(s),
    debug: (s) => lines.push(s),
    info: (s) => lines.push(s),
    warn: (s) => lines.push(s),
    error: (s) => lines.push(String(s)),
    logLevel: 2,
    onDidChangeLogLevel: new EventEmitter().event,
  });
}

function message(kind) {
  return (text, ...items) => {
    recorded.messages.push({ kind, text: String(text) });
    return Promise.resolve(undefined);
  };
}

const noEvent = () => new Disposable(() => {});

const window = withFallback('window', {
  get activeTextEditor() {
    return recorded.activeTextEditor;
  },
  visibleTextEditors: [],
  createOutputChannel: outputChannel,
  createStatusBarItem(id) {
    const item = withFallback('StatusBarItem', { id, text: '', show() {}, hide() {}, dispose() {} });
    const proxy = new Proxy(item, {
      set(target, prop, value) {
        target[prop] = value;
        if (prop === 'text') recorded.statusTexts.push(value);
        return true;
      },
    });
    recorded.statusItems.push(proxy);
    return proxy;
  },
  createTreeView(id, options) {
    const view = withFallback('TreeView', { id, provider: options.treeDataProvider, message: undefined, description: undefined, dispose() {}, reveal: () => Promise.resolve() });
    recorded.treeViews.set(id, view);
    return view;
  },
  createWebviewPanel(viewType, title) {
    const onDispose = new EventEmitter();
    const onMessage = new EventEmitter();
    const panel = withFallback('WebviewPanel', {
      viewType,
      title,
      webview: withFallback('Webview', { html: '', cspSource: 'vscode-resource:', onDidReceiveMessage: onMessage.event, postMessage: () => Promise.resolve(true) }),
      onDidDispose: onDispose.event,
      reveal() {},
      dispose() {
        onDispose.fire();
      },
      _send: (m) => onMessage.fire(m),
    });
    recorded.webviews.push(panel);
    return panel;
  },
  showInformationMessage: message('info'),
  showWarningMessage: message('warning'),
  showErrorMessage: message('error'),
  showQuickPick: () => Promise.resolve(undefined),
  showTextDocument: (doc) => {
    recorded.shownDocuments = recorded.shownDocuments || [];
    recorded.shownDocuments.push(doc);
    return Promise.resolve(stub('TextEditor'));
  },
  withProgress: (options, task) => {
    const source = new CancellationTokenSource();
    return Promise.resolve(task({ report: () => {} }, source.token));
  },
  onDidChangeActiveTextEditor: noEvent,
  onDidChangeVisibleTextEditors: noEvent,
  onDidChangeWindowState: noEvent,
  tabGroups: { all: [], onDidChangeTabs: noEvent, onDidChangeTabGroups: noEvent },
});

const workspace = withFallback('workspace', {
  get workspaceFolders() {
    return recorded.folders;
  },
  get name() {
    return 'smoke';
  },
  isTrusted: true,
  textDocuments: [],
  notebookDocuments: [],
  getConfiguration: configuration,
  getWorkspaceFolder(uri) {
    return recorded.folders.find((f) => uri.toString().startsWith(f.uri.toString()));
  },
  registerTextDocumentContentProvider(scheme, provider) {
    recorded.contentProviders.set(scheme, provider);
    return new Disposable(() => recorded.contentProviders.delete(scheme));
  },
  async openTextDocument(uri) {
    const provider = recorded.contentProviders.get(uri.scheme);
    const text = provider ? await provider.provideTextDocumentContent(uri) : '';
    return { uri, getText: () => text, languageId: 'markdown' };
  },
  createFileSystemWatcher: () => withFallback('FileSystemWatcher', { onDidCreate: noEvent, onDidChange: noEvent, onDidDelete: noEvent, dispose() {} }),
  onDidChangeConfiguration: noEvent,
  onDidChangeWorkspaceFolders: noEvent,
  onDidOpenTextDocument: recorded.documents.open.event,
  onDidCloseTextDocument: recorded.documents.close.event,
  onDidChangeTextDocument: recorded.documents.change.event,
  onDidSaveTextDocument: noEvent,
  onWillSaveTextDocument: noEvent,
  onDidGrantWorkspaceTrust: noEvent,
});

const commands = withFallback('commands', {
  registerCommand(id, fn) {
    recorded.commands.set(id, fn);
    return new Disposable(() => recorded.commands.delete(id));
  },
  executeCommand(id, ...args) {
    if (id === 'setContext') {
      recorded.context.set(args[0], args[1]);
      return Promise.resolve();
    }
    const fn = recorded.commands.get(id);
    return Promise.resolve(fn ? fn(...args) : undefined);
  },
  getCommands: () => Promise.resolve([...recorded.commands.keys()]),
});

const enums = {
  StatusBarAlignment: { Left: 1, Right: 2 },
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  ViewColumn: { Active: -1, Beside: -2, One: 1, Two: 2 },
  DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
  SymbolKind: Object.fromEntries(
    'File Module Namespace Package Class Method Property Field Constructor Enum Interface Function Variable Constant String Number Boolean Array Object Key Null EnumMember Struct Event Operator TypeParameter'
      .split(' ')
      .map((k, i) => [k, i]),
  ),
  UIKind: { Desktop: 1, Web: 2 },
  ExtensionMode: { Production: 1, Development: 2, Test: 3 },
};

module.exports = withFallback('vscode', {
  version: '1.85.0',
  env: withFallback('env', { appName: 'Smoke', language: 'en', machineId: 'smoke', sessionId: 'smoke', uiKind: 1 }),
  Disposable,
  EventEmitter,
  Uri,
  Position,
  Range,
  Selection,
  Location,
  MarkdownString,
  ThemeIcon,
  ThemeColor,
  TreeItem,
  CancellationTokenSource,
  CancellationError,
  window,
  workspace,
  commands,
  languages: withFallback('languages', { match: () => 10, createDiagnosticCollection: () => stub('DiagnosticCollection') }),
  extensions: withFallback('extensions', { all: [], getExtension: () => undefined, onDidChange: noEvent }),
  ...enums,
  __recorded: recorded,
});
