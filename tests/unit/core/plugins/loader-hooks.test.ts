import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t, { type Test } from 'tap';
import { initialize, resolve } from '../../../../core/plugins/loader-hooks.js';
import { loaderNeeds, PROJECT_ROOT } from '../../../../core/plugins/resolve-module.js';

type Next = Parameters<typeof resolve>[2];

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'axon-hooks-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const AXON = 'file:///axon/core/index.js';
const context: Parameters<typeof resolve>[1] = {
  conditions: [],
  importAssertions: {},
  importAttributes: {},
  parentURL: undefined,
};

/** What `resolve` answers for `specifier` when the rest of the chain resolves it to `url` as `format`. */
async function resolved(specifier: string, url: string, format: string) {
  const seen: string[] = [];
  const next = (async (s: string) => {
    seen.push(s);
    return { url, format };
  }) as Next;
  const result = await resolve(specifier, context, next);
  return { ...result, seen };
}

void t.test(
  '"axon" is handed down the chain as the server\'s exports; other names as they are',
  async (t) => {
    await initialize({ axonExports: AXON, packageRoot: PROJECT_ROOT });
    t.same((await resolved('axon', AXON, 'module')).seen, [AXON]);
    t.same((await resolved('axon-other', 'file:///x.js', 'module')).seen, ['axon-other']);
  },
);

void t.test('a .ts or .js plugin file without a package type loads as an ES module', async (t) => {
  const dir = await tempDir(t);
  await initialize({ axonExports: AXON, packageRoot: PROJECT_ROOT });
  const url = (path: string) => pathToFileURL(join(dir, path)).href;
  t.equal((await resolved('./p.ts', url('p.ts'), 'commonjs')).format, 'module');
  t.equal((await resolved('./p.js', url('p.js'), 'commonjs')).format, 'module');
  t.equal((await resolved('./p.cjs', url('p.cjs'), 'commonjs')).format, 'commonjs', '.cjs says what it is');

  await mkdir(join(dir, 'cjs', 'deep'), { recursive: true });
  await writeFile(join(dir, 'cjs', 'package.json'), '{ "type": "commonjs" }');
  t.equal(
    (await resolved('./p.js', url('cjs/deep/p.js'), 'commonjs')).format,
    'commonjs',
    'a package.json that declares its type is obeyed',
  );
  await mkdir(join(dir, 'node_modules', 'pkg'), { recursive: true });
  t.equal(
    (await resolved('pkg', url('node_modules/pkg/index.js'), 'commonjs')).format,
    'commonjs',
    'npm packages keep their format',
  );
  const inAxon = pathToFileURL(join(PROJECT_ROOT, 'scripts/x.js')).href;
  t.equal((await resolved('./x.js', inAxon, 'commonjs')).format, 'commonjs', "Axon's own files too");
});

void t.test('hooks are needed only by plugins outside the shipped folders', async (t) => {
  const url = (path: string) => pathToFileURL(join(PROJECT_ROOT, path)).href;
  t.same(loaderNeeds([url('spam-checkers/keyword-filter/index.ts'), url('plugins/ldap-provider/index.ts')]), {
    typescript: false,
    outOfTree: false,
  });
  t.equal(
    loaderNeeds([url('spam-checkers/keyword-filter/index.ts'), 'file:///etc/axon/p.mjs']).outOfTree,
    true,
  );
  t.equal(loaderNeeds([url('node_modules/axon-plugin-x/index.js')]).outOfTree, true, 'npm packages too');
  t.equal(loaderNeeds(['file:///etc/axon/p.mts']).typescript, false, 'tsx runs already under the tests');
  t.same(loaderNeeds([]), { typescript: false, outOfTree: false });
});
