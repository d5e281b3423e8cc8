import { Link } from 'react-router';

/** A dashboard URL that names no view. */
export function NotFound() {
  return (
    <>
      <h1>No such page</h1>
      <p>
        This address names no dashboard view. Start from <Link to="/experiments">Experiments</Link>.
      </p>
    </>
  );
}
