// `node --import=./tests/helpers/ts-loader/register.mjs`: how tap runs the test files (package.json's
// tap.node-arg). See hooks.mjs for what the hooks do and why they are not tsx.
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = new URL('../../../', import.meta.url);
const { compilerOptions } = JSON.parse(readFileSync(new URL('tsconfig.json', root), 'utf8'));
register('./hooks.mjs', import.meta.url, {
  data: {
    cacheDir: fileURLToPath(new URL('node_modules/.cache/axon-test-ts/', root)),
    compilerOptions,
  },
});
