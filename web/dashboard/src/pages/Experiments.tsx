/** Experiments, newest first, each linking to its runs. */
import { Link } from 'react-router';
import { MLFLOW, get, type Experiment } from '../api';
import { Show, formatTime, useApi } from '../components/common';

export function Experiments() {
  const loaded = useApi((signal) => get<{ experiments?: Experiment[] }>(`${MLFLOW}/experiments/search`, { max_results: 200 }, signal), 'experiments');
  return (
    <>
      <h1>Experiments</h1>
      <Show loaded={loaded}>
        {({ experiments = [] }) =>
          experiments.length === 0 ? (
            <p className="muted">No experiments yet: training steps and MLflow clients create them.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Id</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last update</th>
                </tr>
              </thead>
              <tbody>
                {experiments.map((e) => (
                  <tr key={e.experiment_id}>
                    <td>
                      <Link to={`/experiments/${e.experiment_id}`}>{e.name}</Link>
                    </td>
                    <td>{e.experiment_id}</td>
                    <td>{formatTime(e.creation_time)}</td>
                    <td>{formatTime(e.last_update_time)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
    </>
  );
}
