import type { DB, Kysely } from '@topicdesk/data';

/**
 * A handle that records the kind of every statement it sends (BEGIN and COMMIT are not
 * compiled queries: not counted). `queries.length = 0` starts a new count.
 */
export function countedQueries(db: Kysely<DB>): { db: Kysely<DB>; queries: string[] } {
  const queries: string[] = [];
  return {
    queries,
    db: db.withPlugin({
      transformQuery: (args) => {
        queries.push(args.node.kind);
        return args.node;
      },
      transformResult: (args) => Promise.resolve(args.result),
    }),
  };
}
