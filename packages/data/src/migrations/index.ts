import type { Migration } from 'kysely';
import * as m0001 from './0001_initial';
import * as m0002 from './0002_agents_side';

/**
 * Every migration, in order. Listed in code rather than read from a folder so that the
 * same list works under tsx, in a bundle and in one-process mode.
 */
export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_agents_side': m0002,
};
