import { z } from 'zod';

/** Longest visitor message, in characters (Unicode code points). */
export const MAX_TEXT_CHARS = 4000;

export const clientFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('message'),
    clientId: z.string().min(1).max(100),
    text: z.string(),
  }),
  z.object({ type: z.literal('typing') }),
  z.object({ type: z.literal('resume'), afterSeq: z.number().int().min(0) }),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

export const startConversationSchema = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    locale: z
      .string()
      .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a BCP 47 language tag such as en or pt-BR')
      .optional(),
    page: z
      .object({
        url: z.string().url().max(2048),
        title: z.string().max(300).optional(),
      })
      .optional(),
  })
  .strict();

export const historyQuerySchema = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const conversationParamsSchema = z.object({ id: z.string().uuid() });

/** Characters as a person counts them (code points), not UTF-16 units. */
export function charCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
