/**
 * The canary decisions of a model, read from lineage: every `CanaryDecision` artifact the
 * `canary-decision` step published (monitor/canary-component.ts), with the figures it was
 * decided on (the metric, measured or estimated, for the primary and the canary), each side's
 * rows and labelled rows over the decision's window (from its `decision.json`), and whether it
 * promoted the canary (moving the alias) or rolled it back.
 *
 * Usage: `const decisions = await listCanaryDecisions({ metadata, artifacts }, 'flights');`
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { MetadataStore } from '../metadata/store.js';
import { CanaryDecision } from '../pipeline/artifact-types.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import type { CanaryDecisionRecord } from './views/canary-decisions.js';

// The answer's types live in views/ (no Node) so the dashboard shares them; re-exported for the server's users.
export type { CanaryDecisionRecord, DecisionSide } from './views/canary-decisions.js';

// Only what the page shows is read from the step's file: its other fields may grow.
const side = z.object({ version: z.number().int(), rows: z.number().int(), labelled: z.number().int() });
const decisionFile = z.object({ primary: side, canary: side });

/** Every canary decision about `model`, newest window first. */
export async function listCanaryDecisions(stores: { metadata: MetadataStore; artifacts: ArtifactStore }, model: string): Promise<CanaryDecisionRecord[]> {
  const records: CanaryDecisionRecord[] = [];
  let pageToken: string | undefined;
  do {
    const page = await stores.metadata.listArtifacts({ typeName: CanaryDecision.name, pageSize: 1000, pageToken });
    for (const artifact of page.items) {
      const properties = CanaryDecision.schema.parse(artifact.properties);
      if (properties.modelName !== model) continue;
      const producer = (await stores.metadata.getEvents({ artifactIds: [artifact.id] })).find((e) => e.type === 'OUTPUT');
      const sides = await readSides(stores.artifacts, artifact.uri);
      records.push({ ...properties, artifactId: artifact.id, executionId: producer?.executionId ?? null, recordedAt: artifact.createdAt, primary: sides?.primary ?? null, canary: sides?.canary ?? null });
    }
    pageToken = page.nextPageToken;
  } while (pageToken);
  return records.sort((a, b) => b.windowEnd - a.windowEnd || b.artifactId - a.artifactId);
}

/** The sides from `decision.json`; undefined when the file is gone or not one the step wrote (the properties still show). */
async function readSides(artifacts: ArtifactStore, uri: string): Promise<z.infer<typeof decisionFile> | undefined> {
  try {
    const parsed = decisionFile.safeParse(JSON.parse(await readFile(CanaryDecision.files.decision(await artifacts.localPath(uri)), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
