'use strict';
// Loads the compiled addon: from the build tree in development, or from the path the
// installer placed next to the bundled binaries (SYSBOX_NATIVE or /usr/lib/sysbox).
const path = require('path');
const candidates = [
  process.env.SYSBOX_NATIVE,
  path.join(__dirname, 'build', 'Release', 'sysbox_native.node'),
  // next to a bundled binary (out/bin, /usr/lib/sysbox)
  path.join(__dirname, 'sysbox_native.node'),
  '/usr/lib/sysbox/sysbox_native.node',
].filter(Boolean);
let lastErr;
for (const file of candidates) {
  try { module.exports = require(file); return; } catch (e) { lastErr = e; }
}
throw new Error(`sysbox native addon not found (tried ${candidates.join(', ')}): ${lastErr && lastErr.message}`);
