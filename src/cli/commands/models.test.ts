// `loom models` as a user runs it: a real child process over a real project database.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { EXIT_CODE } from '../../core/errors.js';
import { ServingModel, typeRecord } from '../../pipeline/artifact-types.js';
import { openTestPlatform } from '../../../test/support/databases.js';
import { runCompiledLoom } from '../../../test/support/cli.js';
import { makeTempDir } from '../../../test/support/flights.js';

test('loom models: alias set, rollback, approval, refusals with exit codes, listings as JSON', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const seed = await openTestPlatform(join(dir, '.loom'));
  await seed.registry.createRegisteredModel({ name: 'flights', description: 'delays' });
  for (let i = 1; i <= 3; i++) await seed.registry.createModelVersion({ modelName: 'flights', source: `s${i}`, metrics: { auc: 0.7 + i / 100 } });
  // Who acts is the token's subject: LOOM_ACTOR and --actor are claims, not identities.
  const ana = (await seed.tokens.createToken({ subject: 'ana', role: 'admin', createdBy: 'test' })).secret;
  const bob = (await seed.tokens.createToken({ subject: 'bob', role: 'editor', createdBy: 'test' })).secret;
  await seed.close();
  const env = { LOOM_ACTOR: 'ana', LOOM_CREDENTIALS_FILE: join(dir, 'credentials.json') };
  const loom = (...args: string[]) => runCompiledLoom(args, { cwd: dir, env: { ...env, LOOM_TOKEN: ana } });
  const asBob = (...args: string[]) => runCompiledLoom(args, { cwd: dir, env: { ...env, LOOM_TOKEN: bob } });

  const set = await loom('models', 'alias', 'set', 'flights', 'champion', '1', '--reason', 'first');
  assert.equal(set.code, 0, set.stderr);
  await asBob('models', 'alias', 'set', 'flights', 'champion', '3', '--actor', 'carol');
  const rolled = await loom('models', 'rollback', 'flights', '--reason', 'latency', '--json');
  assert.equal(rolled.code, 0, rolled.stderr);
  assert.deepEqual(JSON.parse(rolled.stdout), { ...JSON.parse(rolled.stdout), kind: 'rollback', version: 1, previousVersion: 3, actor: 'ana', reason: 'latency' });

  const aliased = await loom('models', 'delete', 'flights', '1');
  assert.equal(aliased.code, EXIT_CODE.FAILED_PRECONDITION);
  assert.match(aliased.stderr, /@champion/);
  assert.match(aliased.stderr, /fix:/);
  const missing = await loom('models', 'alias', 'set', 'flights', 'champion', '7');
  assert.equal(missing.code, EXIT_CODE.NOT_FOUND);

  await loom('models', 'require-approval', 'flights', 'champion');
  const request = JSON.parse((await asBob('models', 'alias', 'request', 'flights', 'champion', '2', '--json')).stdout) as { id: number };
  const own = await asBob('models', 'approve', String(request.id), '--actor', 'ana');
  assert.equal(own.code, EXIT_CODE.FAILED_PRECONDITION, 'bob cannot approve his own request by claiming another name');
  const approved = await loom('models', 'approve', String(request.id));
  assert.equal(approved.code, 0, approved.stderr);

  const shown = JSON.parse((await loom('models', 'show', 'flights', '--json')).stdout);
  assert.deepEqual(shown.model.aliases, { champion: 2 });
  assert.deepEqual(shown.aliasHistory.champion.map((m: { kind: string }) => m.kind), ['approved', 'rollback', 'set', 'set']);
  assert.deepEqual(shown.aliasHistory.champion.map((m: { actor: string }) => m.actor), ['ana', 'ana', 'bob', 'ana']);
  const versions = JSON.parse((await loom('models', 'versions', 'flights', '--json')).stdout);
  assert.deepEqual(versions.items.map((v: { version: number }) => v.version), [3, 2, 1]);
  const listed = JSON.parse((await loom('models', 'ls', '--json')).stdout);
  assert.deepEqual(listed.items.map((m: { name: string; approvalRequiredFor: string[] }) => [m.name, m.approvalRequiredFor]), [['flights', ['champion']]]);
  const loneEscape = await loom('models', 'ls', '--like', 'flights\\');
  assert.equal(loneEscape.code, EXIT_CODE.INVALID_ARGUMENT);
  assert.match(loneEscape.stderr, /lone backslash[\s\S]*fix: write a literal backslash as \\\\/);
  assert.deepEqual(JSON.parse((await loom('models', 'ls', '--like', 'fl%', '--json')).stdout).items.map((m: { name: string }) => m.name), ['flights']);
});

test('--actor and --reason on every mutating registry and deploy command, recorded where `loom models show` and `loom deploy history` show them', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const seed = await openTestPlatform(join(dir, '.loom'));
  await seed.registry.createRegisteredModel({ name: 'flights' });
  for (let i = 1; i <= 3; i++) await seed.registry.createModelVersion({ modelName: 'flights', source: `s${i}` });
  // Registry changes are recorded under the token's subject (--actor is a claim, not an identity).
  const token = async (subject: string) => (await seed.tokens.createToken({ subject, role: 'editor', createdBy: 'test' })).secret;
  const [ana, bob, cid] = [await token('ana'), await token('bob'), await token('cid')];
  const vic = (await seed.tokens.createToken({ subject: 'vic', role: 'viewer', createdBy: 'test' })).secret;
  const root = (await seed.tokens.createToken({ subject: 'root', role: 'admin', createdBy: 'test' })).secret;
  await seed.close();
  const env = { LOOM_ACTOR: 'ana', LOOM_CREDENTIALS_FILE: join(dir, 'credentials.json') };
  const loom = (...args: string[]) => runCompiledLoom(args, { cwd: dir, env: { ...env, LOOM_TOKEN: ana } });
  const as = (secret: string, ...args: string[]) => runCompiledLoom(args, { cwd: dir, env: { ...env, LOOM_TOKEN: secret } });

  const archived = await as(bob, 'models', 'archive', 'flights', '3', '--actor', 'mallory', '--reason', 'trained on a broken export');
  assert.equal(archived.code, 0, archived.stderr);
  assert.equal((await loom('models', 'restore', 'flights', '3', '--reason', 'export fixed')).code, 0);
  assert.equal((await as(cid, 'models', 'archive', 'flights', '2')).code, 0);
  const shown = JSON.parse((await loom('models', 'show', 'flights', '--json')).stdout) as { versionChanges: { version: number; kind: string; actor: string; reason: string }[] };
  assert.deepEqual(shown.versionChanges.map((c) => [c.version, c.kind, c.actor, c.reason]), [
    [2, 'archive', 'cid', ''],
    [3, 'restore', 'ana', 'export fixed'],
    [3, 'archive', 'bob', 'trained on a broken export'],
  ]);
  const text = await loom('models', 'show', 'flights');
  assert.match(text.stdout, /archived and restored versions/);
  assert.match(text.stdout, /3\s+archive\s+bob\s+trained on a broken export/);

  const set = await loom('deploy', 'set', 'flights', '--version', '1', '--actor', 'dana', '--reason', 'pin v1', '--json');
  assert.equal(set.code, 0, set.stderr);
  // Deployments too are made and recorded as the token's subject: --actor dana is a claim.
  assert.deepEqual((({ actor, reason }) => ({ actor, reason }))(JSON.parse(set.stdout) as { actor: string; reason: string }), { actor: 'ana', reason: 'pin v1' });
  assert.equal((await loom('deploy', 'set', 'flights', '--version', '3')).code, 0);
  const rolled = await loom('deploy', 'rollback', 'flights', '--actor', 'eve', '--reason', 'latency', '--json');
  assert.equal(rolled.code, 0, rolled.stderr);
  const history = JSON.parse((await loom('deploy', 'history', 'flights', '--json')).stdout) as { items: { actor: string; reason: string }[] };
  assert.deepEqual(history.items.map((d) => [d.actor, d.reason]), [['ana', 'latency'], ['ana', ''], ['ana', 'pin v1']]);
  const denied = await as(vic, 'deploy', 'rollback', 'flights');
  assert.equal(denied.code, EXIT_CODE.PERMISSION_DENIED, denied.stderr);
  const audit = JSON.parse((await as(root, 'audit', '--model', 'flights', '--json')).stdout) as { items: { action: string; actor: string; reason: string }[] };
  assert.deepEqual(audit.items.filter((e) => e.action.startsWith('deployment.')).map((e) => [e.action, e.actor, e.reason]), [
    ['deployment.rollback', 'ana', 'latency'],
    ['deployment.set', 'ana', ''],
    ['deployment.set', 'ana', 'pin v1'],
  ]);
  const empty = await loom('deploy', 'set', 'flights', '--version', '1', '--actor', '');
  assert.equal(empty.code, EXIT_CODE.INVALID_ARGUMENT);
  assert.match(empty.stderr, /--actor/);
});

test('loom models versions shows what is true of each version: the verdict push recorded, and where its lineage is', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const seed = await openTestPlatform(join(dir, '.loom'));
  await seed.metadata.putArtifactType(typeRecord(ServingModel));
  const [artifact] = await seed.metadata.putArtifacts([{ typeName: ServingModel.name, uri: 'loom-artifact://sha256/abc', fingerprint: 'abc', properties: { labelColumn: 'delayed' } }]);
  await seed.registry.createRegisteredModel({ name: 'flights' });
  // As push registers a version, and as an MLflow client registers one by URI alone.
  await seed.registry.createModelVersion({ modelName: 'flights', source: artifact!.uri, artifactId: artifact!.id, lineage: { evaluationUri: 'loom-artifact://sha256/e', blessed: true } });
  await seed.registry.createModelVersion({ modelName: 'flights', source: 'file:///models/two' });
  await seed.close();
  const listed = await runCompiledLoom(['models', 'versions', 'flights'], { cwd: dir, env: { LOOM_CREDENTIALS_FILE: join(dir, 'credentials.json') } });
  assert.equal(listed.code, 0, listed.stderr);
  const rows = listed.stdout.split('\n');
  assert.match(rows.find((row) => /^1\s/.test(row)) ?? '', /\syes\s.*loom lineage flights@1$/);
  assert.match(rows.find((row) => /^2\s/.test(row)) ?? '', /no lineage \(registered by URI\)$/);
  const json = JSON.parse((await runCompiledLoom(['models', 'versions', 'flights', '--json'], { cwd: dir })).stdout) as { items: { version: number; lineage: object }[] };
  assert.deepEqual(json.items.map((v) => [v.version, v.lineage]), [[2, { evaluationUri: null, blessed: null }], [1, { evaluationUri: 'loom-artifact://sha256/e', blessed: true }]]);
});
