// Docker's docker-default AppArmor profile denies mount, which system software inside needs;
// confinement comes from the user namespace instead (as in the original Sysbox).
import type { Transform } from '../transform.js';

export const apparmor: Transform = {
  name: 'apparmor',
  apply(spec) {
    if (spec.process?.apparmorProfile === 'docker-default') delete spec.process.apparmorProfile;
  },
};
