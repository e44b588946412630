// Preloaded into a measured process (NODE_OPTIONS --import): on SIGUSR2 it runs full garbage
// collections and writes its memory use to MEMORY_PROBE_FILE, so that a benchmark compares live
// memory rather than whatever garbage the last phase happened to leave.
import { writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const file = process.env['MEMORY_PROBE_FILE'];

process.on('SIGUSR2', () => {
  for (let i = 0; i < 3; i++) gc();
  // Give the allocator a moment to hand freed pages back before the reading.
  setTimeout(() => {
    if (file) writeFileSync(file, JSON.stringify({ at: Date.now(), ...process.memoryUsage() }));
  }, 500);
});
