import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import {
  importPluginModule,
  isPathSpecifier,
  PROJECT_ROOT,
} from '../../../../core/plugins/resolve-module.js';

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'axon-resolve-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

void t.test('paths start with ./, ../ or /; anything else is a package name', async (t) => {
  t.ok(isPathSpecifier('./x'));
  t.ok(isPathSpecifier('../x'));
  t.ok(isPathSpecifier('/abs/x'));
  t.notOk(isPathSpecifier('axon-plugin-x'));
  t.notOk(isPathSpecifier('@org/plugin'));
  t.notOk(isPathSpecifier('spam-checkers/keyword-filter'));
});

void t.test('a folder resolves to its index file, a file without extension to the file', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'folder'));
  await writeFile(join(dir, 'folder', 'index.mjs'), 'export default "folder";');
  await writeFile(join(dir, 'single.mjs'), 'export default "single";');
  const folder = await importPluginModule('./folder', dir, PROJECT_ROOT);
  t.same(folder.ok && folder.exports['default'], 'folder');
  const single = await importPluginModule('./single', dir, PROJECT_ROOT);
  t.same(single.ok && single.exports['default'], 'single');
});

void t.test('the config directory is tried before the project root', async (t) => {
  const configDir = await tempDir(t);
  const projectRoot = await tempDir(t);
  await writeFile(join(configDir, 'p.mjs'), 'export default "config";');
  await writeFile(join(projectRoot, 'p.mjs'), 'export default "project";');
  await writeFile(join(projectRoot, 'only-project.mjs'), 'export default "project";');
  const p = await importPluginModule('./p.mjs', configDir, projectRoot);
  t.same(p.ok && p.exports['default'], 'config');
  const q = await importPluginModule('./only-project.mjs', configDir, projectRoot);
  t.same(q.ok && q.exports['default'], 'project');
});

void t.test('an npm package name is imported as a package', async (t) => {
  const outcome = await importPluginModule('yaml', await tempDir(t), PROJECT_ROOT);
  t.ok(outcome.ok && typeof outcome.exports['parse'] === 'function');
});

void t.test('a missing path names every place looked in', async (t) => {
  const dir = await tempDir(t);
  const outcome = await importPluginModule('./nope', dir, PROJECT_ROOT);
  t.notOk(outcome.ok);
  t.match(!outcome.ok && outcome.reason, `looked for ${join(dir, 'nope')} and ${join(PROJECT_ROOT, 'nope')}`);
});
