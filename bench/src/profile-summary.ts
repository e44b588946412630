// Summarises a V8 .cpuprofile (as bench/src/anchors/cpu-profile.ts writes them): where the
// process's busy time went, by self time (function, package) and by inclusive time (package,
// our own functions). `pnpm exec tsx bench/src/profile-summary.ts <file.cpuprofile> [top]`.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The npm package, workspace package or node module a script belongs to. */
export function packageOf(url: string): string {
  if (!url) return '(native)';
  const dependency = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1]!;
  const workspace = /\/(packages|services)\/([^/]+)\//.exec(url);
  if (workspace) return `@topicdesk/${workspace[2]!}`;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]!}`;
  return url;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const short = url
    .replace(/^.*\/node_modules\/\.pnpm\/[^/]+\/node_modules\//, '')
    .replace(/^.*\/(packages|services)\//, '$1/');
  return `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`;
}

const add = (map: Map<string, number>, key: string, value: number) =>
  map.set(key, (map.get(key) ?? 0) + value);

export function summarise(profile: Profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const timeOf = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    timeOf.set(id, (timeOf.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0)),
  );
  let busy = 0;
  const selfFunction = new Map<string, number>();
  const selfPackage = new Map<string, number>();
  const inclusivePackage = new Map<string, number>();
  const inclusiveOurs = new Map<string, number>();
  for (const [id, time] of timeOf) {
    const node = byId.get(id)!;
    const name = node.callFrame.functionName;
    if (name === '(idle)') continue;
    busy += time;
    add(selfFunction, label(node), time);
    add(
      selfPackage,
      name.startsWith('(') && !node.callFrame.url ? name : packageOf(node.callFrame.url),
      time,
    );
    // Inclusive: every function and package on the stack, once per sample.
    const seenPackages = new Set<string>();
    const seenOurs = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!;
      const { url } = frame.callFrame;
      if (!url) continue;
      seenPackages.add(packageOf(url));
      if (/\/(packages|services)\//.test(url) && !url.includes('node_modules'))
        seenOurs.add(label(frame));
    }
    for (const p of seenPackages) add(inclusivePackage, p, time);
    for (const f of seenOurs) add(inclusiveOurs, f, time);
  }
  return {
    seconds: (profile.endTime - profile.startTime) / 1e6,
    busy,
    selfFunction,
    selfPackage,
    inclusivePackage,
    inclusiveOurs,
  };
}

function print(file: string, top: number): void {
  const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  console.log(`${file}: ${s.seconds.toFixed(1)} s, busy ${(s.busy / 1e6).toFixed(2)} s`);
  const table = (title: string, map: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [key, time] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(
        `${(time / 1000).toFixed(0).padStart(7)} ms ${((100 * time) / s.busy).toFixed(1).padStart(5)} %  ${key}`,
      );
  };
  table('self time, by function', s.selfFunction);
  table('self time, by package', s.selfPackage);
  table('inclusive time, by package', s.inclusivePackage);
  table('inclusive time, our functions', s.inclusiveOurs);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, top] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
  print(file, Number(top ?? 15));
}
