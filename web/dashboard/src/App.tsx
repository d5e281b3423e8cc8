/**
 * The dashboard's frame and its URLs: every view is a route, so a link can be shared and the
 * browser's back and forward buttons move between views. Keep the top-level paths in step
 * with DASHBOARD_VIEWS in src/server/routes/dashboard.ts (the server answers them with the app).
 */
import { NavLink, Navigate, Route, Routes } from 'react-router';
import { SessionGate, SessionStatus } from './components/SignIn';
import { CompareRuns } from './pages/CompareRuns';
import { Datasets } from './pages/Datasets';
import { DatasetDetail } from './pages/DatasetDetail';
import { Deployments } from './pages/Deployments';
import { Experiments } from './pages/Experiments';
import { ExperimentRuns } from './pages/ExperimentRuns';
import { ModelDetail } from './pages/ModelDetail';
import { Models } from './pages/Models';
import { Monitoring } from './pages/Monitoring';
import { NotFound } from './pages/NotFound';
import { PipelineRun } from './pages/PipelineRun';
import { Pipelines } from './pages/Pipelines';
import { RunDetail } from './pages/RunDetail';

const SECTIONS = [
  ['/experiments', 'Experiments'],
  ['/models', 'Models'],
  ['/pipelines', 'Pipelines'],
  ['/datasets', 'Datasets'],
  ['/deployments', 'Deployments'],
  ['/monitoring', 'Monitoring'],
] as const;

export function App() {
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Loom</span>
        <nav aria-label="Sections">
          {SECTIONS.map(([to, label]) => (
            <NavLink key={to} to={to}>
              {label}
            </NavLink>
          ))}
        </nav>
        <SessionStatus />
      </header>
      <main id="main">
        <SessionGate>
        <Routes>
          <Route path="/" element={<Navigate to="/experiments" replace />} />
          <Route path="/experiments" element={<Experiments />} />
          <Route path="/experiments/:experimentId" element={<ExperimentRuns />} />
          <Route path="/experiments/:experimentId/runs/:runId" element={<RunDetail />} />
          <Route path="/experiments/:experimentId/compare" element={<CompareRuns />} />
          <Route path="/models" element={<Models />} />
          <Route path="/models/:name" element={<ModelDetail />} />
          <Route path="/pipelines" element={<Pipelines />} />
          <Route path="/pipelines/:runId" element={<PipelineRun />} />
          <Route path="/datasets" element={<Datasets />} />
          <Route path="/datasets/:version" element={<DatasetDetail />} />
          <Route path="/deployments" element={<Deployments />} />
          <Route path="/monitoring" element={<Monitoring />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
        </SessionGate>
      </main>
    </>
  );
}
