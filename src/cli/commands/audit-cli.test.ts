// `loom models delete`, `loom deploy` and `loom audit` as a user runs them on a project on
// each database backend (SQLite file; a PostgreSQL schema named in loom.config.json):
// tombstones and deployments show in `loom audit`, and `loom audit verify` finds an
// entry edited and one removed with SQL on the database itself.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { EXIT_CODE } from '../../core/errors.js';
import { runCompiledLoom } from '../../../test/support/cli.js';
import { dropSchema, openTestPlatform, postgresTestUrl, randomSchemaName } from '../../../test/support/databases.js';
import { makeTempDir } from '../../../test/support/flights.js';

/** Runs SQL on the project's database directly, as someone with access to it could. */
type RawSql = (statements: string[]) => Promise<void>;

function describeAuditCli(backend: string, url?: string): void {
  describe(`loom audit: ${backend}`, () => {
    it('shows tombstones and deployments under the login, and verify names an edited and a removed entry', async (t) => {
      const dir = await makeTempDir((fn) => t.after(fn));
      const schema = randomSchemaName();
      if (url) {
        await writeFile(join(dir, 'loom.config.json'), JSON.stringify({ database: { url, schema } }));
        t.after(() => dropSchema(url, schema));
      }
      const seed = await openTestPlatform(join(dir, '.loom'), url ? { database: { url, schema } } : {});
      await seed.registry.createRegisteredModel({ name: 'flights' });
      for (const source of ['s1', 's2']) await seed.registry.createModelVersion({ modelName: 'flights', source });
      await seed.close();
      const loom = (...args: string[]) => runCompiledLoom(args, { cwd: dir, env: { LOOM_CREDENTIALS_FILE: join(dir, 'credentials.json'), LOOM_ACTOR: 'mallory' } });
      const raw: RawSql = url
        ? async (statements) => {
            const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
            await client.connect();
            try {
              for (const statement of statements) await client.query(statement);
            } finally {
              await client.end();
            }
          }
        : async (statements) => {
            const sqlite = new Database(join(dir, '.loom', 'loom.db'));
            for (const statement of statements) sqlite.exec(statement);
            sqlite.close();
          };

      for (const args of [['deploy', 'set', 'flights', '--version', '1', '--reason', 'pin'], ['deploy', 'set', 'flights', '--version', '2'], ['models', 'delete', 'flights', '1'], ['deploy', 'set', 'flights', '--alias', 'champion'], ['models', 'delete', 'flights', '--reason', 'retired']]) {
        const result = await loom(...args);
        assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      }
      const deleted = JSON.parse((await loom('models', 'deleted', 'flights', '--json')).stdout) as { items: { deletedBy: string; versions: { version: number }[] }[] };
      assert.deepEqual(deleted.items.map((d) => [d.deletedBy === 'mallory', d.versions.map((v) => v.version)]), [[false, [1, 2]]]);
      const log = JSON.parse((await loom('audit', '--model', 'flights', '--json')).stdout) as { items: { seq: number; action: string; actor: string; reason: string; after: unknown }[] };
      assert.deepEqual(log.items.map((e) => e.action), ['model.delete', 'deployment.set', 'version.delete', 'deployment.set', 'deployment.set']);
      const login = log.items[0]!.actor;
      assert.notEqual(login, 'mallory', 'LOOM_ACTOR is a claim; the login is recorded');
      assert.ok(log.items.every((e) => e.actor === login));
      assert.deepEqual([log.items[0]!.reason, log.items[4]!.reason], ['retired', 'pin']);
      assert.equal(await runCompiledLoom(['models', 'show', 'flights'], { cwd: dir }).then((r) => r.code), EXIT_CODE.NOT_FOUND);
      assert.equal((await loom('audit', 'verify')).code, 0);

      const guards = url ? ['drop trigger audit_log_no_change on audit_log'] : ['drop trigger audit_log_no_update', 'drop trigger audit_log_no_delete'];
      await raw([...guards, "update audit_log set actor = 'nobody' where seq = 2", 'delete from audit_log where seq = 4']);
      const report = await loom('audit', 'verify', '--json');
      assert.equal(report.code, EXIT_CODE.FAILED_PRECONDITION);
      assert.deepEqual((JSON.parse(report.stdout) as { problems: { kind: string; seq: number }[] }).problems.map((p) => [p.kind, p.seq]), [['tampered', 2], ['missing', 4]]);
    });
  });
}

describeAuditCli('sqlite');
const url = postgresTestUrl('loom audit');
if (url) describeAuditCli('postgres', url);
