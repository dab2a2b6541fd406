/**
 * A plugin author's project outside this repository type-checks against the declarations Axon ships
 * (package.json `exports` -> `types`, emitted to dist/types/ by scripts/build.mjs): a folder with the
 * guide's one-file plugin, a tsconfig, and `axon` installed as a dependency (a link to this repository, as
 * `npm install ../axon` makes). The compiler must accept the guide's plugin and catch the mistakes below.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import ts from 'typescript';
import { PROJECT_ROOT } from '../helpers/cli.js';

const MISTAKES = `import { definePlugin, NOT_SPAM, Type, type PluginApi } from 'axon';

export default definePlugin({
  name: 'mistakes',
  apiVersion: 1,
  config: Type.Object({ words: Type.Array(Type.String()) }),
  register(api: PluginApi, config) {
    // @ts-expect-error -- the config has no such key
    void config.wrods;
    api.registerSpamChecker({
      // @ts-expect-error -- a verdict is NOT_SPAM or { errcode }, not a string of one's own
      checkEventForSpam: () => 'SPAM',
      // @ts-expect-error -- checkRegistrationForSpam answers ALLOW, DENY or SHADOW_BAN
      checkRegistrationForSpam: () => NOT_SPAM,
    });
  },
});

// @ts-expect-error -- apiVersion is required
definePlugin({ name: 'no-version', register() {} });
`;

void t.test('a plugin outside the repository type-checks against the shipped declarations', async (t) => {
  await promisify(execFile)(process.execPath, [join(PROJECT_ROOT, 'scripts/build.mjs')]);
  const pkg = JSON.parse(await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    exports: { '.': { types: string } };
  };
  const declarations = join(PROJECT_ROOT, pkg.exports['.'].types);

  const dir = await mkdtemp(join(tmpdir(), 'axon-plugin-project-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'node_modules'));
  await symlink(PROJECT_ROOT, join(dir, 'node_modules', 'axon'), 'dir');
  const guide = await readFile(join(PROJECT_ROOT, 'plugins/README.md'), 'utf8');
  const example = /```ts\n([\s\S]*?)```/.exec(guide.slice(guide.indexOf('## A complete spam checker')))?.[1];
  if (!example) throw new Error('the guide lost its one-file example');
  await writeFile(join(dir, 'no-casino.mts'), example);
  await writeFile(join(dir, 'mistakes.mts'), MISTAKES);

  const program = ts.createProgram([join(dir, 'no-casino.mts'), join(dir, 'mistakes.mts')], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    // As most projects set it; a declaration that failed to resolve would still show: its type falls back
    // to any, and an expected error in mistakes.mts goes missing.
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(PROJECT_ROOT, 'node_modules/@types')],
  });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file
      ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
      : '';
    return `${where} TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
  t.same(problems, [], 'the guide plugin compiles, and every @ts-expect-error in mistakes.mts is an error');
  t.ok(
    program.getSourceFiles().some((f) => f.fileName === declarations),
    `'axon' resolved to the shipped declarations (${pkg.exports['.'].types})`,
  );
  t.notOk(
    program.getSourceFiles().some((f) => f.fileName.endsWith('core/index.ts')),
    'and not to the TypeScript sources',
  );
});
