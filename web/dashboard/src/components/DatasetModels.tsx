/**
 * Lineage read the other way, on a dataset page: the registered model versions made from this
 * data version, each opening its model page at that version (whose lineage links back here).
 */
import { Link } from 'react-router';
import { LOOM, get, type DatasetModels as Models } from '../api';
import { Show, useApi } from './common';

export function DatasetModels({ version }: { version: string }) {
  const loaded = useApi((signal) => get<Models>(`${LOOM}/datasets/${encodeURIComponent(version)}/models`, {}, signal), version);
  return (
    <section aria-labelledby="made-models-h">
      <h2 id="made-models-h">Models made from this version</h2>
      <Show loaded={loaded}>
        {({ models }) =>
          models.length === 0 ? (
            <p className="muted">No registered model version was made from it.</p>
          ) : (
            <ul className="made-models">
              {models.map((m) => (
                <li key={`${m.name}@${m.version}`}>
                  <Link to={`/models/${encodeURIComponent(m.name)}?version=${m.version}`}>
                    {m.name} v{m.version}
                  </Link>
                </li>
              ))}
            </ul>
          )
        }
      </Show>
    </section>
  );
}
