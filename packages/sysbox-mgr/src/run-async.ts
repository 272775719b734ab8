// A command run while sysbox-mgr goes on serving requests (its handlers otherwise block the loop).
import { spawn } from 'node:child_process';

/** Runs a command without blocking the caller's event loop; rejects with its stderr on failure. */
export function runAsync(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => { if (stderr.length < 4096) stderr += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(stderr.trim() || `${cmd} exited with ${code ?? signal}`));
    });
  });
}
