/**
 * The alert history, read from lineage: every fired alert is an `Alert` artifact that the
 * `alert` step published, with its rule, model version, newest window and the outcome of
 * each action. The CLI (`loom monitor alerts ls`), the dashboard and the rules' cool-downs
 * read it here.
 *
 * Usage: `const alerts = await listAlerts(platform.metadata, { model: 'flights' });`
 */
import type { z } from 'zod';
import type { MetadataStore } from '../../metadata/store.js';
import { Alert } from '../../pipeline/artifact-types.js';

// The schema's output, as `listAlerts` parses it: its input type (PropertiesOf) leaves each property unknown.
export type AlertRecord = z.output<typeof Alert.schema> & { artifactId: number; uri: string; recordedAt: number };

/** Every recorded alert, newest window first; `model` and `rule` narrow it. */
export async function listAlerts(metadata: MetadataStore, filter: { model?: string; rule?: string } = {}): Promise<AlertRecord[]> {
  const records: AlertRecord[] = [];
  let pageToken: string | undefined;
  do {
    const page = await metadata.listArtifacts({ typeName: Alert.name, pageSize: 1000, pageToken });
    for (const artifact of page.items) {
      const properties = Alert.schema.parse(artifact.properties);
      if (filter.model !== undefined && properties.modelName !== filter.model) continue;
      if (filter.rule !== undefined && properties.rule !== filter.rule) continue;
      records.push({ ...properties, artifactId: artifact.id, uri: artifact.uri, recordedAt: artifact.createdAt });
    }
    pageToken = page.nextPageToken;
  } while (pageToken);
  return records.sort((a, b) => b.windowEnd - a.windowEnd || b.artifactId - a.artifactId);
}
