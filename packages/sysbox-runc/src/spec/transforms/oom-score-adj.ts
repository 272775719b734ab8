// oomScoreAdj within -999..1000. -1000 (never OOM-killed) needs CAP_SYS_RESOURCE over the host to
// keep, which nothing inside a user namespace has: the container's software (inner dockerd, kubelet,
// systemd's OOMScoreAdjust=) would fail to restore it, so -999 is the lowest a system container
// gets. The value itself is applied by lifecycle/oom-score.ts, not by runc.
import type { Transform } from '../transform.js';

export const OOM_SCORE_MIN = -999;
export const OOM_SCORE_MAX = 1000;

export function clampOomScore(v: number): number {
  return Math.min(OOM_SCORE_MAX, Math.max(OOM_SCORE_MIN, Math.trunc(v)));
}

export const oomScoreAdj: Transform = {
  name: 'oom-score-adj',
  apply(spec) {
    const p = spec.process;
    if (p?.oomScoreAdj !== undefined) p.oomScoreAdj = clampOomScore(p.oomScoreAdj);
  },
};
