// Principle priority w*(a) (spec section 6): the +inf / -inf rules, then an exact Bradley-Terry maximum-likelihood
// fit on the conflicts between the remaining ("finite") principles.
//
//   w* = argmax_w  sum_{i != j} W_ij * log sigmoid(w_i - w_j)        (W_ij = times i beat j)
//
// Rules, in order: (1) a principle that never loses a decisive conflict gets +inf; (2) a principle that never
// wins gets -inf (so a principle with no conflicts at all ends at -inf); (3) fit the rest on the terms between
// finite principles only. The fit is Newton's method with a backtracking (Armijo) line search on the exact
// log-likelihood, one parameter pinned during the solve, then centred over the finite principles. It stops
// when the gradient of the mean log-likelihood is below `gradTol` (default 1e-13) or stops improving.
//
// The maximum exists and is unique (up to the constant) iff the directed graph "i -> j when i beat j at least
// once" on the finite principles is strongly connected (Zermelo 1929; Ford 1957). When it is not, the optimum
// diverges or is not unique: those principles get w = NaN and the result carries status 'disconnected', the
// strongly connected components (in dominance order where one exists) and a readable diagnostic.

export type PriorityStatus = 'ok' | 'disconnected' | 'not-converged';

export interface PriorityResult {
  /** w* per principle, in principle order: centred over the finite principles; +/-Infinity by the rules;
   *  NaN for the finite principles when the comparison graph is not strongly connected. */
  w: Float64Array;
  status: PriorityStatus;
  /** Human-readable explanation when status is not 'ok'. */
  diagnostic: string | null;
  /** The finite principles' strongly connected components (principle indices), when disconnected. */
  components: number[][] | null;
  /** Newton iterations used. */
  iterations: number;
  /** max |gradient| of the mean log-likelihood at the returned point (0 when nothing was fitted). */
  maxGradient: number;
}

export interface PriorityOptions {
  gradTol?: number;
  maxIter?: number;
  /** Labels used in diagnostics (default "p<i>"). */
  labels?: readonly string[];
  /** Warm start for the fit (length m; non-finite entries start at 0). Does not change the optimum. */
  init?: ArrayLike<number>;
}

export function principlePriority(W: Float64Array, m: number, opts: PriorityOptions = {}): PriorityResult {
  if (W.length !== m * m) throw new RangeError(`win matrix must have ${m * m} cells`);
  const w = new Float64Array(m);
  const finite: number[] = [];
  for (let i = 0; i < m; i++) {
    let wins = 0;
    let losses = 0;
    for (let j = 0; j < m; j++) {
      if (j === i) continue;
      wins += W[i * m + j]!;
      losses += W[j * m + i]!;
    }
    // Rule 1 then rule 2 (rule 2 wins when both hold, i.e. no conflicts at all).
    if (wins === 0) w[i] = -Infinity;
    else if (losses === 0) w[i] = Infinity;
    else finite.push(i);
  }
  const base = {
    w,
    status: 'ok' as PriorityStatus,
    diagnostic: null as string | null,
    components: null as number[][] | null,
    iterations: 0,
    maxGradient: 0,
  };
  if (finite.length === 0) return base;
  if (finite.length === 1) {
    w[finite[0]!] = 0;
    return base;
  }
  if (!isStronglyConnected(W, m, finite)) {
    const components = orderedComponents(W, m, finite);
    const label = (i: number) => opts.labels?.[i] ?? `p${i}`;
    const parts = components.map((c) => `{${c.map(label).join(', ')}}`).join(components.dominanceOrder ? ' > ' : ', ');
    for (const i of finite) w[i] = NaN;
    return {
      ...base,
      status: 'disconnected',
      components: components.slice(),
      diagnostic:
        `the comparison graph of the ${finite.length} finite principles is not strongly connected ` +
        `(${components.length} components${components.dominanceOrder ? ', in dominance order' : ''}: ${parts}); ` +
        'the Bradley-Terry optimum diverges or is not unique, so w* is undefined (NaN) for these principles',
    };
  }
  const fit = fitBradleyTerry(W, m, finite, opts);
  for (let a = 0; a < finite.length; a++) w[finite[a]!] = fit.w[a]!;
  return {
    ...base,
    status: fit.converged ? 'ok' : 'not-converged',
    diagnostic: fit.converged
      ? null
      : `Bradley-Terry fit did not converge (max gradient ${fit.maxGradient.toExponential(2)})`,
    iterations: fit.iterations,
    maxGradient: fit.maxGradient,
  };
}

export interface BradleyTerryFit {
  /** Centred strengths of `nodes`, in the order of `nodes`. */
  w: Float64Array;
  iterations: number;
  maxGradient: number;
  converged: boolean;
}

/** Scratch buffers of the Bradley-Terry solver for f nodes, reused across calls (the code is synchronous). */
interface Workspace {
  pa: Int32Array;
  pb: Int32Array;
  wab: Float64Array;
  wba: Float64Array;
  g: Float64Array;
  gT: Float64Array;
  H: Float64Array;
  HT: Float64Array;
  chol: Float64Array;
  step: Float64Array;
  trial: Float64Array;
}
const workspaces = new Map<number, Workspace>();
function workspace(f: number): Workspace {
  let w = workspaces.get(f);
  if (!w) {
    const pairs = (f * (f - 1)) / 2;
    const d = Math.max(f - 1, 0);
    w = {
      pa: new Int32Array(pairs),
      pb: new Int32Array(pairs),
      wab: new Float64Array(pairs),
      wba: new Float64Array(pairs),
      g: new Float64Array(f),
      gT: new Float64Array(f),
      H: new Float64Array(d * d),
      HT: new Float64Array(d * d),
      chol: new Float64Array(d * d),
      step: new Float64Array(d),
      trial: new Float64Array(f),
    };
    workspaces.set(f, w);
  }
  return w;
}

/**
 * Exact Bradley-Terry ML on the sub-matrix of `nodes` (terms between nodes only), by Newton + line search.
 * Assumes the nodes' comparison graph is strongly connected (otherwise there is no finite maximum).
 * `opts.init` (length m, optional) is a warm start; non-finite entries start at 0.
 */
export function fitBradleyTerry(
  W: Float64Array,
  m: number,
  nodes: readonly number[],
  opts: PriorityOptions = {},
): BradleyTerryFit {
  const gradTol = opts.gradTol ?? 1e-13;
  const maxIter = opts.maxIter ?? 200;
  const f = nodes.length;
  const ws = workspace(f);
  // The comparable pairs (a < b, n_ab > 0) as flat arrays.
  const { pa, pb, wab, wba } = ws;
  let P = 0;
  let total = 0;
  for (let a = 0; a < f; a++) {
    const ra = nodes[a]! * m;
    for (let b = a + 1; b < f; b++) {
      const x = W[ra + nodes[b]!]!;
      const y = W[nodes[b]! * m + nodes[a]!]!;
      if (x === 0 && y === 0) continue;
      pa[P] = a;
      pb[P] = b;
      wab[P] = x;
      wba[P] = y;
      P++;
      total += x + y;
    }
  }
  const x = new Float64Array(f);
  if (f <= 1 || total === 0) return { w: x, iterations: 0, maxGradient: 0, converged: true };
  const d = f - 1; // x[f-1] pinned at 0 during the solve
  if (opts.init) {
    const ref = opts.init[nodes[d]!]!;
    for (let a = 0; a < d; a++) {
      const v = opts.init[nodes[a]!]! - ref;
      x[a] = Number.isFinite(v) ? v : 0;
    }
  }
  let { g, H, gT, HT } = ws;
  const { chol, step, trial } = ws;

  // Gradient (all f entries) into gOut and negative Hessian (reduced d x d) into hOut at v, one exp per pair
  // (D = v_a - v_b). Returns max |gradient|.
  const derivatives = (v: Float64Array, gOut: Float64Array, hOut: Float64Array): number => {
    gOut.fill(0);
    hOut.fill(0);
    for (let t = 0; t < P; t++) {
      const a = pa[t]!;
      const b = pb[t]!;
      const D = v[a]! - v[b]!;
      const n = wab[t]! + wba[t]!;
      const e = Math.exp(-Math.abs(D));
      const s = D >= 0 ? 1 / (1 + e) : e / (1 + e); // sigmoid(D)
      const r = wab[t]! - n * s; // d/dv_a of the (a,b) terms; d/dv_b is -r
      gOut[a]! += r;
      gOut[b]! -= r;
      const h = n * s * (1 - s);
      if (a < d) hOut[a * d + a]! += h;
      if (b < d) {
        hOut[b * d + b]! += h;
        if (a < d) {
          hOut[a * d + b]! -= h;
          hOut[b * d + a]! -= h;
        }
      }
    }
    let mx = 0;
    for (let a = 0; a < f; a++) mx = Math.max(mx, Math.abs(gOut[a]!));
    return mx;
  };
  // sum_t wab log sigmoid(D) + wba log sigmoid(-D); log sigmoid(-D) = log sigmoid(D) - D.
  const logLik = (v: Float64Array): number => {
    let L = 0;
    for (let t = 0; t < P; t++) {
      const D = v[pa[t]!]! - v[pb[t]!]!;
      const l = D >= 0 ? Math.log1p(Math.exp(-D)) : Math.log1p(Math.exp(D)) - D; // -log sigmoid(D)
      L -= (wab[t]! + wba[t]!) * l + wba[t]! * D;
    }
    return L;
  };
  const swap = () => {
    [g, gT] = [gT, g];
    [H, HT] = [HT, H];
  };

  let maxG = derivatives(x, g, H);
  let L = NaN; // log-likelihood at x, computed only when a line search needs it
  let iterations = 0;
  let converged = maxG / total <= gradTol;
  /** Takes the full Newton step already evaluated in `trial` (its derivatives are in gT/HT). */
  const acceptTrial = (gmaxT: number) => {
    x.set(trial);
    swap();
    maxG = gmaxT;
    L = NaN;
    converged = maxG / total <= gradTol;
  };
  while (!converged && iterations < maxIter) {
    iterations++;
    for (let a = 0; a < d; a++) step[a] = g[a]!;
    if (!solveSpd(H, step, d, chol)) {
      // Numerically singular Hessian (extreme strengths): damp it.
      let ok = false;
      for (let lambda = 1e-10 * (total / f); !ok && lambda < 1e12; lambda *= 100) {
        const Hd = Float64Array.from(H);
        for (let a = 0; a < d; a++) Hd[a * d + a]! += lambda;
        for (let a = 0; a < d; a++) step[a] = g[a]!;
        ok = solveSpd(Hd, step, d, chol);
      }
      if (!ok) break;
    }
    let slope = 0; // directional derivative along the Newton step (the squared Newton decrement)
    for (let a = 0; a < d; a++) slope += g[a]! * step[a]!;
    if (!(slope > 0)) break;
    for (let a = 0; a < d; a++) trial[a] = x[a]! + step[a]!;
    trial[d] = 0;
    const gmaxT = derivatives(trial, gT, HT);
    if (slope <= 1e-10 * (1 + total)) {
      // Quadratic-convergence region: the predicted gain (slope / 2) is far below anything a line search could
      // resolve; take the full step unless it no longer reduces the gradient (rounding floor).
      if (gmaxT >= maxG) break;
      acceptTrial(gmaxT);
      continue;
    }
    let dphi = 0; // derivative of the log-likelihood along the step, at the full step
    for (let a = 0; a < d; a++) dphi += gT[a]! * step[a]!;
    if (dphi >= 0) {
      // Concave along the line and still increasing at t = 1: the full step increases the log-likelihood.
      acceptTrial(gmaxT);
      continue;
    }
    // Overshoot: Armijo backtracking on the log-likelihood itself.
    if (Number.isNaN(L)) L = logLik(x);
    let t = 1;
    let accepted = false;
    for (let ls = 0; ls < 60; ls++) {
      if (t < 1) {
        for (let a = 0; a < d; a++) trial[a] = x[a]! + t * step[a]!;
        trial[d] = 0;
      }
      const Lt = logLik(trial);
      if (Lt >= L + 1e-4 * t * slope) {
        x.set(trial);
        L = Lt;
        maxG = t < 1 ? derivatives(x, g, H) : (swap(), gmaxT);
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    if (!accepted) break; // no further improvement is representable: at the optimum to rounding
    converged = maxG / total <= gradTol;
  }
  if (!converged) {
    // Newton stalls only at rounding level; accept if the gradient is at rounding level relative to the counts.
    converged = maxG / total <= 1e-9;
  }
  let mean = 0;
  for (let a = 0; a < f; a++) mean += x[a]!;
  mean /= f;
  for (let a = 0; a < f; a++) x[a] = x[a]! - mean;
  return { w: x, iterations, maxGradient: maxG / total, converged };
}

/** In-place Cholesky solve of A x = b (A symmetric positive definite, d x d); b becomes x. False if not PD. */
function solveSpd(A: Float64Array, b: Float64Array, d: number, scratch: Float64Array): boolean {
  const L = scratch;
  L.set(A);
  for (let j = 0; j < d; j++) {
    let s = L[j * d + j]!;
    for (let k = 0; k < j; k++) s -= L[j * d + k]! * L[j * d + k]!;
    if (!(s > 0)) return false;
    const ljj = Math.sqrt(s);
    L[j * d + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let t = L[i * d + j]!;
      for (let k = 0; k < j; k++) t -= L[i * d + k]! * L[j * d + k]!;
      L[i * d + j] = t / ljj;
    }
  }
  for (let i = 0; i < d; i++) {
    let t = b[i]!;
    for (let k = 0; k < i; k++) t -= L[i * d + k]! * b[k]!;
    b[i] = t / L[i * d + i]!;
  }
  for (let i = d - 1; i >= 0; i--) {
    let t = b[i]!;
    for (let k = i + 1; k < d; k++) t -= L[k * d + i]! * b[k]!;
    b[i] = t / L[i * d + i]!;
  }
  return true;
}

/** Is the graph "i -> j iff W_ij > 0" on `nodes` strongly connected? (forward + backward search from one node) */
export function isStronglyConnected(W: Float64Array, m: number, nodes: readonly number[]): boolean {
  const f = nodes.length;
  if (f <= 1) return true;
  for (const forward of [true, false]) {
    const seen = new Uint8Array(f);
    const stack = [0];
    seen[0] = 1;
    let count = 1;
    while (stack.length > 0) {
      const a = stack.pop()!;
      for (let b = 0; b < f; b++) {
        if (seen[b]) continue;
        const v = forward ? W[nodes[a]! * m + nodes[b]!]! : W[nodes[b]! * m + nodes[a]!]!;
        if (v > 0) {
          seen[b] = 1;
          count++;
          stack.push(b);
        }
      }
    }
    if (count < f) return false;
  }
  return true;
}

/**
 * Strongly connected components of the graph on `nodes`, topologically ordered (a component listed earlier is
 * never beaten by a later one). `dominanceOrder` is true when that order is total (each component beat the
 * next at least once), i.e. the components form a chain.
 */
export function orderedComponents(
  W: Float64Array,
  m: number,
  nodes: readonly number[],
): number[][] & { dominanceOrder: boolean } {
  const f = nodes.length;
  const edge = (a: number, b: number) => W[nodes[a]! * m + nodes[b]!]! > 0;
  // Reachability by search from each node (f is small: principles).
  const reach: Uint8Array[] = [];
  for (let s = 0; s < f; s++) {
    const seen = new Uint8Array(f);
    seen[s] = 1;
    const stack = [s];
    while (stack.length > 0) {
      const a = stack.pop()!;
      for (let b = 0; b < f; b++) {
        if (!seen[b] && edge(a, b)) {
          seen[b] = 1;
          stack.push(b);
        }
      }
    }
    reach.push(seen);
  }
  const compOf = new Int32Array(f).fill(-1);
  const comps: number[][] = [];
  for (let a = 0; a < f; a++) {
    if (compOf[a] !== -1) continue;
    const c: number[] = [];
    for (let b = 0; b < f; b++) {
      if (reach[a]![b] && reach[b]![a]) {
        compOf[b] = comps.length;
        c.push(b);
      }
    }
    comps.push(c);
  }
  // Order components: X before Y when X reaches Y (a DAG on components); sort by number of reachable nodes.
  const reachCount = comps.map((c) => {
    let n = 0;
    for (let b = 0; b < f; b++) n += reach[c[0]!]![b]!;
    return n;
  });
  const order = comps.map((_, i) => i).sort((x, y) => reachCount[y]! - reachCount[x]! || x - y);
  let chain = true;
  for (let t = 0; t + 1 < order.length; t++) {
    const X = comps[order[t]!]!;
    const Y = comps[order[t + 1]!]!;
    if (!X.some((a) => Y.some((b) => edge(a, b)))) chain = false;
  }
  const out = order.map((i) => comps[i]!.map((a) => nodes[a]!)) as number[][] & { dominanceOrder: boolean };
  out.dominanceOrder = chain;
  return out;
}
