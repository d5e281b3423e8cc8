/** Monitoring's place in the dashboard; it shows what the monitoring loop records once that lands. */
export function Monitoring() {
  return (
    <>
      <h1>Monitoring</h1>
      <p className="muted">No monitoring data yet: drift and online quality over time appear here once the monitoring loop records them.</p>
    </>
  );
}
