// Bundles the extension with esbuild (dist/extension.js), or, with --tests, each unit test
// (out/test/*.test.js). `vscode` is external for the extension only: a test that pulls in a
// module importing `vscode` fails to bundle, which keeps the tested logic pure.
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const production = args.has('--production');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  logLevel: 'warning',
  absWorkingDir: root,
};

if (args.has('--tests')) {
  rmSync(join(root, 'out'), { recursive: true, force: true });
  const entryPoints = readdirSync(join(root, 'test'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join('test', f));
  await esbuild.build({ ...common, entryPoints, outdir: 'out/test', sourcemap: 'inline' });
  console.log(`built ${entryPoints.length} test files into out/test`);
} else {
  const options = {
    ...common,
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
    external: ['vscode'],
    sourcemap: production ? false : 'linked',
    minify: production,
    metafile: true,
  };
  if (args.has('--watch')) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
    console.log('watching src/ …');
  } else {
    rmSync(join(root, 'dist'), { recursive: true, force: true });
    const result = await esbuild.build(options);
    const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
    console.log(`built dist/extension.js (${(bytes / 1024).toFixed(0)} KiB${production ? ', minified' : ''})`);
  }
}
