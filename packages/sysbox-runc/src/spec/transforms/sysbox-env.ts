// SYSBOX_* variables configure Sysbox for this container (already read into the context's
// config); the processes inside do not get them, as with the original.
import { stripKnobs } from '@sysbox/common/container-config';
import type { Transform } from '../transform.js';

export const sysboxEnv: Transform = {
  name: 'sysbox-env',
  apply(spec) {
    const p = spec.process;
    if (p?.env) p.env = stripKnobs(p.env);
  },
};
