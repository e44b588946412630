import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@topicdesk/testkit';

/**
 * A checkout of `revision` with its dependencies installed, for running another revision's
 * services against this checkout's benchmark (old vs new, one after the other). A detached git
 * worktree under the temp directory, kept for the next run (`git worktree remove <dir>` drops it).
 */
export function checkoutOf(revision: string): { dir: string; commit: string } {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
  const commit = git('rev-parse', '--verify', `${revision}^{commit}`);
  const dir = join(tmpdir(), `topicdesk-bench-${commit.slice(0, 12)}`);
  if (!existsSync(join(dir, 'package.json'))) {
    console.log(`checking out ${revision} (${commit.slice(0, 12)}) into ${dir}`);
    git('worktree', 'add', '--detach', dir, commit);
  }
  if (!existsSync(join(dir, 'node_modules'))) {
    execFileSync('pnpm', ['install', '--frozen-lockfile', '--prefer-offline'], {
      cwd: dir,
      stdio: 'inherit',
    });
  }
  return { dir, commit };
}

/** This checkout's commit, with `+changes` when its work tree differs from it. */
export function currentRevision(): string {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
  const commit = git('rev-parse', 'HEAD').slice(0, 12);
  return git('status', '--porcelain', '--untracked-files=no') === '' ? commit : `${commit}+changes`;
}
