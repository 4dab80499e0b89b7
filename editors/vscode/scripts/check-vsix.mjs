// Lists a .vsix and checks it: the bundle, manifest, README and LICENSE are in; the sources,
// tests and node_modules are not; the packaged package.json is this one.
// Usage: node scripts/check-vsix.mjs forge-lsp-0.1.0.vsix
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const yauzl = require('yauzl'); // installed with @vscode/vsce

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/check-vsix.mjs FILE.vsix');
  process.exit(2);
}

function entries(path) {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const out = [];
      zip.on('entry', (entry) => {
        if (entry.fileName === 'extension/package.json') {
          zip.openReadStream(entry, (e, stream) => {
            if (e) return reject(e);
            const chunks = [];
            stream.on('data', (c) => chunks.push(c));
            stream.on('end', () => {
              out.push({ name: entry.fileName, size: entry.uncompressedSize, text: Buffer.concat(chunks).toString('utf8') });
              zip.readEntry();
            });
          });
        } else {
          out.push({ name: entry.fileName, size: entry.uncompressedSize });
          zip.readEntry();
        }
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

const list = await entries(file);
for (const e of list) console.log(`${String(e.size).padStart(9)}  ${e.name}`);
const names = new Set(list.map((e) => e.name));
const problems = [];
for (const required of ['extension/package.json', 'extension/dist/extension.js', 'extension/readme.md', 'extension/LICENSE.txt', 'extension.vsixmanifest']) {
  if (!names.has(required)) problems.push(`missing: ${required}`);
}
for (const name of names) {
  if (/^extension\/(node_modules|src|test|out|scripts)\//.test(name) || /\.(ts|map)$/.test(name)) problems.push(`should not be packaged: ${name}`);
}
const packaged = list.find((e) => e.name === 'extension/package.json');
if (packaged && JSON.parse(packaged.text).version !== JSON.parse(readFileSync('package.json', 'utf8')).version) {
  problems.push('the packaged package.json is not this one');
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`OK: ${file}, ${list.length} files`);
