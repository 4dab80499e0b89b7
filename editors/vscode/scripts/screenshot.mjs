// Renders the impact graph of the demo (test/fixtures/impact-order-total.json, a real
// forge/impact answer for Order.total in examples/demo) exactly as the webview does — same SVG,
// same HTML and Content-Security-Policy — and screenshots it with headless Chromium into
// media/impact-graph.png. The VS Code theme variables are set to Dark Modern's colours.
//
// Usage: node scripts/screenshot.mjs [--light] [--out media/impact-graph.png] [--result FILE.json]
// Needs chromium (apt-get install chromium) or CHROMIUM=/path/to/chrome.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const light = argv.includes('--light');
const outIndex = argv.indexOf('--out');
const out = resolve(root, outIndex >= 0 ? argv[outIndex + 1] : 'media/impact-graph.png');
const resultIndex = argv.indexOf('--result');
const resultFile = resolve(root, resultIndex >= 0 ? argv[resultIndex + 1] : 'test/fixtures/impact-order-total.json');
const scale = 2;

const tmp = mkdtempSync(join(tmpdir(), 'forge-shot-'));
try {
  // Compile the pure modules for this script.
  await esbuild.build({
    stdin: {
      contents: `export * from './src/graph'; export * from './src/impact';`,
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: join(tmp, 'graph.mjs'),
    logLevel: 'warning',
  });
  const { impactGraph, renderImpactSvg, renderGraphHtml } = await import(pathToFileURL(join(tmp, 'graph.mjs')).href);
  const parsed = JSON.parse(readFileSync(resultFile, 'utf8'));
  const result = parsed.result ?? parsed; // a JSON-RPC response or the bare result
  const graph = impactGraph(result, { folders: [{ uri: 'file:///home/dev/demo', name: 'demo' }] });
  const nonce = 'screenshot';
  const { svg, width, height } = renderImpactSvg(graph, { nonce });
  let html = renderGraphHtml({ nonce, title: graph.title, svg, interactive: false });

  const dark = {
    '--vscode-editor-background': '#1f1f1f',
    '--vscode-foreground': '#cccccc',
    '--vscode-descriptionForeground': '#9d9d9d',
    '--vscode-editorWidget-background': '#252526',
    '--vscode-editorWidget-border': '#454545',
    '--vscode-focusBorder': '#0078d4',
    '--vscode-testing-iconPassed': '#73c991',
    '--vscode-diffEditor-insertedTextBackground': '#1e3a26',
    '--vscode-editorWarning-foreground': '#cca700',
    '--vscode-editorLineNumber-foreground': '#7a7a7a',
  };
  const fonts = {
    '--vscode-font-family': '"DejaVu Sans", system-ui, sans-serif',
    '--vscode-editor-font-family': '"DejaVu Sans Mono", monospace',
  };
  const vars = { ...fonts, ...(light ? {} : dark) };
  const themeCss = `:root { ${Object.entries(vars).map(([k, v]) => `${k}: ${v};`).join(' ')} }`;
  // The theme goes in with the page's nonce, as VS Code injects its variables into the webview.
  html = html.replace('<style nonce="screenshot">', `<style nonce="screenshot">\n${themeCss}\n`);
  const page = join(tmp, 'graph.html');
  writeFileSync(page, html);

  const chromium = process.env.CHROMIUM || 'chromium';
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
    `--user-data-dir=${join(tmp, 'profile')}`,
    `--force-device-scale-factor=${scale}`,
    `--window-size=${width},${height}`,
    `--screenshot=${out}`,
    pathToFileURL(page).href,
  ];
  const run = spawnSync(chromium, args, { encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) {
    console.error(run.stdout, run.stderr);
    throw new Error(`${chromium} failed with status ${run.status}`);
  }
  console.log(`wrote ${out} (${width}×${height} CSS px at ${scale}×): ${graph.title}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
