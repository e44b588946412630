// Preloaded into a process (NODE_OPTIONS --import) to profile it: V8's CPU profiler runs from
// start to exit, and the profile is written to CPU_PROFILE_FILE (open it in Chrome DevTools).
// For finding a bottleneck; the benchmarks do not load it by themselves.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const file = process.env['CPU_PROFILE_FILE'];
if (file) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.on('exit', () => {
    // The in-process session answers synchronously, so this completes inside 'exit'.
    session.post('Profiler.stop', (error, result) => {
      if (!error)
        writeFileSync(`${file}.${process.pid}.cpuprofile`, JSON.stringify(result.profile));
    });
  });
}
