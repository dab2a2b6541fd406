import t from 'tap';
import { openDatabase } from '../../../core/storage/database.js';
import { isUniqueViolation } from '../../../core/storage/errors.js';
import {
  sqlQuery,
  sqlBatchTransaction,
  sqliteLiteral,
  sqlTransaction,
  type SqlStatement,
} from '../../../core/storage/sql.js';
import { withAllDatabases } from '../../helpers/with-all-databases.js';

void withAllDatabases(t, async (t, database, engine) => {
  const db = await openDatabase(database, '/tmp');
  t.teardown(() => db.destroy()); // also proves cached SQLite statements are finalized (close would fail)
  const batch = (statements: readonly SqlStatement[]) =>
    sqlBatchTransaction(db, () => ({ statements, result: undefined }));
  await db.schema.createTable('sql_notes', (table) => {
    table.increments('id');
    table.string('text').notNullable().unique();
    table.integer('n').notNullable().defaultTo(0);
  });

  await t.test('statements commit together, with rows, RETURNING and change counts', async (t) => {
    const result = await sqlTransaction(db, async (sql) => {
      t.equal(sql.dialect, engine === 'sqlite' ? 'sqlite' : 'pg');
      const inserted = await sql.all<{ id: number }>(
        'INSERT INTO sql_notes (text, n) VALUES (?, ?) RETURNING id',
        ['a', 1],
      );
      await sql.run('INSERT INTO sql_notes (text, n) VALUES (?, ?)', ['b', 2]);
      const changed = await sql.run('UPDATE sql_notes SET n = n + ? WHERE n >= ?', [10, 1]);
      return { id: Number(inserted[0]?.id), changed };
    });
    t.ok(result.id > 0, 'RETURNING gives the new id');
    t.equal(result.changed, 2, 'run resolves to the rows changed');
    const rows = (await db('sql_notes').orderBy('text')) as { text: string; n: number }[];
    t.same(
      rows.map((r) => [r.text, Number(r.n)]),
      [
        ['a', 11],
        ['b', 12],
      ],
    );
  });

  await t.test('a statement reused many times keeps working (prepared once)', async (t) => {
    for (let i = 0; i < 50; i++) {
      await sqlTransaction(db, (sql) => sql.run('INSERT INTO sql_notes (text) VALUES (?)', [`r${i}`]));
    }
    const [row] = await sqlTransaction(db, (sql) =>
      sql.all<{ c: number | string }>("SELECT count(*) AS c FROM sql_notes WHERE text LIKE 'r%'"),
    );
    t.equal(Number(row?.c), 50);
  });

  await t.test('a failure rolls every statement back and the connection stays usable', async (t) => {
    const err = await sqlTransaction(db, async (sql) => {
      await sql.run('INSERT INTO sql_notes (text) VALUES (?)', ['first']);
      await sql.run('INSERT INTO sql_notes (text) VALUES (?)', ['a']); // unique violation
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(isUniqueViolation(err), `a unique violation surfaces as one: ${String(err)}`);
    t.equal((await db('sql_notes').where({ text: 'first' })).length, 0, 'nothing of it was kept');
    await t.rejects(
      sqlTransaction(db, async (sql) => {
        await sql.run('INSERT INTO sql_notes (text) VALUES (?)', ['second']);
        throw new Error('the caller changed its mind');
      }),
      /changed its mind/,
    );
    t.equal((await db('sql_notes').where({ text: 'second' })).length, 0);
    t.equal((await db('sql_notes').count({ c: '*' }))[0]?.['c'] + '', '52', 'knex still works after');
  });

  await t.test('a statement that does not prepare is an error, not a hang', async (t) => {
    await t.rejects(sqlTransaction(db, (sql) => sql.run('INSERT INTO no_such_table (x) VALUES (?)', [1])));
    await t.resolves(sqlTransaction(db, (sql) => sql.all('SELECT 1 AS one')));
  });

  await t.test('concurrent transactions do not interleave', async (t) => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        sqlTransaction(db, async (sql) => {
          const [row] = await sql.all<{ n: number | string }>('SELECT n FROM sql_notes WHERE text = ?', [
            'a',
          ]);
          await sql.run('UPDATE sql_notes SET n = ? WHERE text = ?', [Number(row?.n) + 1, 'a']);
          return i;
        }),
      ),
    );
    const [a] = (await db('sql_notes').where({ text: 'a' })) as { n: number }[];
    // On PostgreSQL, READ COMMITTED transactions may lose updates here; SQLite's single connection may not.
    if (engine === 'sqlite') t.equal(Number(a?.n), 31, 'every read-modify-write saw the previous one');
    else t.ok(Number(a?.n) > 11, 'every transaction committed');
  });

  await t.test('a batch commits every statement, parameters exactly as bound', async (t) => {
    const tricky = [
      "it's",
      "''; DROP TABLE sql_notes; --",
      'back\\slash \\n not a newline',
      'line\nbreak\ttab',
      'question? marks?',
      'ünïcödé 🎉 \u2028',
      '',
    ];
    await batch(
      tricky.map(
        (text, i) => ['INSERT INTO sql_notes (text, n) VALUES (?, ?)', [`batch-${i}-${text}`, i]] as const,
      ),
    );
    const rows = (await db('sql_notes').where('text', 'like', 'batch-%').orderBy('n')) as { text: string }[];
    t.same(
      rows.map((r) => r.text),
      tricky.map((text, i) => `batch-${i}-${text}`),
    );
    t.ok(await db.schema.hasTable('sql_notes'), 'a quote in a value stays a value');
  });

  // PostgreSQL text cannot hold NUL at all; SQLite can, but not inside a literal.
  await t.test(
    'a batch with a value that has no exact literal still runs (prepared)',
    { skip: engine !== 'sqlite' },
    async (t) => {
      await batch([['INSERT INTO sql_notes (text, n) VALUES (?, ?)', ['nul\u0000inside', 1]]]);
      const [row] = (await db('sql_notes').where('text', 'like', 'nul%')) as { text: string }[];
      t.equal(row?.text, 'nul\u0000inside');
    },
  );

  await t.test('a batch is planned with the connection held and reports its commit', async (t) => {
    const order: string[] = [];
    const result = await sqlBatchTransaction(
      db,
      () => {
        order.push('plan');
        return { statements: [['INSERT INTO sql_notes (text) VALUES (?)', ['planned']]], result: 7 };
      },
      (r) => order.push(`committed ${r}`),
    );
    t.equal(result, 7);
    t.same(order, ['plan', 'committed 7']);
  });

  await t.test(
    'sqlQuery reads through many distinct statements (a bounded cache) and reuses them',
    async (t) => {
      for (let i = 0; i < 300; i++) {
        const [row] = await sqlQuery<{ n: number | string }>(db, `SELECT ${i} + ? AS n`, [1]);
        t.equal(Number(row?.n), i + 1);
      }
      const again = await sqlQuery<{ n: number | string }>(db, 'SELECT 0 + ? AS n', [5]);
      t.equal(Number(again[0]?.n), 5, 'an evicted statement is prepared again');
    },
  );

  await t.test('a failing statement rolls the whole batch back and reports its error', async (t) => {
    const err = await batch([
      ['INSERT INTO sql_notes (text) VALUES (?)', ['batch-first']],
      ['INSERT INTO sql_notes (text) VALUES (?)', ['a']],
      ['INSERT INTO sql_notes (text) VALUES (?)', ['batch-after']],
    ]).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(isUniqueViolation(err), String(err));
    t.equal((await db('sql_notes').whereIn('text', ['batch-first', 'batch-after'])).length, 0);
    await batch([['INSERT INTO sql_notes (text) VALUES (?)', ['batch-later']]]);
    t.equal((await db('sql_notes').where({ text: 'batch-later' })).length, 1, 'the connection is fine after');
  });
});

void t.test('sqliteLiteral', async (t) => {
  t.equal(sqliteLiteral("a'b"), "'a''b'");
  t.equal(sqliteLiteral(null), 'NULL');
  t.equal(sqliteLiteral(true), '1');
  t.equal(sqliteLiteral(42), '42');
  t.equal(sqliteLiteral(1.5), undefined, 'only safe integers');
  t.equal(sqliteLiteral(2 ** 60), undefined);
  t.equal(sqliteLiteral('a\u0000b'), undefined, 'NUL would end the SQL text');
  t.equal(sqliteLiteral({}), undefined);
});
