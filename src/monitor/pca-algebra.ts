/**
 * The linear algebra of the multivariate drift's PCA (multivariate.ts): eigenvectors of the
 * covariance matrix and an orthonormal basis of the directions the kept components leave out.
 * Plain arrays: the matrices are features × features, small.
 */

/** The directions a row's reconstruction error is taken from (`errorDirections`). */
export interface ErrorDirections {
  /** Unit vectors of length d. */
  vectors: number[][];
  /** Whether the error is ‖z‖² − Σ (v·z)² (the vectors are the components) rather than Σ (v·z)² (their orthonormal complement). */
  fromNorm: boolean;
}

/**
 * A row's error ‖z − WWᵀz‖ is √(‖z‖² − ‖Wᵀz‖²) (W, d × k, the kept components, orthonormal),
 * or √‖Uᵀz‖² for U an orthonormal basis of the directions W leaves out. The second when fewer
 * directions are left out than kept plus one (for the norm): fewer products per row (4
 * features, 3 components: one projection instead of four), the same value up to rounding, and
 * no cancellation of two near-equal squares.
 */
export function errorDirections(components: number[][]): ErrorDirections {
  const d = components.length;
  const k = components[0]?.length ?? 0;
  if (d - k < k + 1) return { vectors: complementBasis(components), fromNorm: false };
  return { vectors: Array.from({ length: k }, (_, c) => components.map((row) => row[c]!)), fromNorm: true };
}

/**
 * An orthonormal basis of the directions orthogonal to the columns of `components` (d × k,
 * orthonormal): d − k vectors, by Gram–Schmidt on the unit vectors, each time taking the unit
 * vector with the most left after removing the basis so far (orthogonalised twice, as
 * floating point needs). The unit vectors' residuals are kept and each new basis vector
 * removed from them once (O(d³) in all): recomputing them for every new vector made it
 * O(d⁴), seconds per window at a hundred features.
 */
export function complementBasis(components: number[][]): number[][] {
  const d = components.length;
  const k = components[0]?.length ?? 0;
  const dot = (a: number[], b: number[]) => a.reduce((sum, ai, i) => sum + ai * b[i]!, 0);
  const remove = (r: number[], b: number[]) => {
    for (let pass = 0; pass < 2; pass++) {
      const along = dot(r, b);
      for (let i = 0; i < d; i++) r[i]! -= along * b[i]!;
    }
  };
  const residuals = Array.from({ length: d }, (_, j) => Array.from({ length: d }, (_, i) => (i === j ? 1 : 0)));
  const basis: number[][] = [];
  const add = (u: number[]) => {
    basis.push(u);
    for (const r of residuals) remove(r, u);
  };
  for (let c = 0; c < k; c++) add(components.map((row) => row[c]!));
  const complement: number[][] = [];
  for (let n = k; n < d; n++) {
    const best = residuals.reduce((a, b) => (dot(b, b) > dot(a, a) ? b : a)).slice();
    // Its residual was cleaned of each basis vector as that came; once more against them all.
    for (const b of basis) remove(best, b);
    const length = Math.sqrt(dot(best, best));
    const u = best.map((x) => x / length);
    complement.push(u);
    add(u);
  }
  return complement;
}

/** Eigenvalues and eigenvectors (as columns) of a symmetric matrix, by cyclic Jacobi rotations. */
export function symmetricEigen(input: number[][]): { values: number[]; vectors: number[][] } {
  const n = input.length;
  const a = input.map((row) => [...row]);
  const v = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j): number => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p]![q]!) < 1e-300) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * a[p]![q]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!;
          const akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!;
          const aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: a.map((row, i) => row[i]!), vectors: v };
}
