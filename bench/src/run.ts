// `pnpm bench`: every benchmark once, one after another (each writes test-results/bench/<name>.json).
// `pnpm bench:<name>` runs one. They load this machine for minutes: run them on a quiet one.
import { benchDrain } from './drain';
import { benchFanout } from './fanout';
import { benchIdle } from './idle';
import { benchPipeline } from './pipeline';
import { benchTenants } from './tenants';
import { benchUploads } from './uploads';

const all = {
  idle: benchIdle,
  pipeline: benchPipeline,
  fanout: benchFanout,
  drain: benchDrain,
  uploads: benchUploads,
  tenants: benchTenants,
};
const chosen = process.argv.slice(2);
for (const name of chosen.length > 0 ? chosen : Object.keys(all)) {
  const bench = all[name as keyof typeof all] as (() => Promise<void>) | undefined;
  if (!bench) throw new Error(`no benchmark ${name}; there are ${Object.keys(all).join(', ')}`);
  console.log(`\n=== ${name}`);
  await bench();
}
