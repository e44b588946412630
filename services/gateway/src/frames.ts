import { z } from 'zod';
import { charCount, localeField, nameField, pageUrlField, titleField } from './text-fields';

export { charCount };

/** Longest visitor message, in characters (Unicode code points). */
export const MAX_TEXT_CHARS = 4000;
/** Largest seq a conversation can have (the column is a 32-bit integer). */
export const MAX_SEQ = 2_147_483_647;
/** Longest visitor name, page title and page URL (docs/errors.md: refused, cut, refused). */
export const MAX_NAME_CHARS = 100;
export const MAX_PAGE_TITLE_CHARS = 300;
export const MAX_PAGE_URL_CHARS = 2048;

export const clientFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('message'),
    clientId: z.string().min(1).max(100),
    text: z.string(),
  }),
  z.object({ type: z.literal('typing') }),
  z.object({ type: z.literal('resume'), afterSeq: z.number().int().min(0).max(MAX_SEQ) }),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

export const startConversationSchema = z
  .object({
    name: nameField(MAX_NAME_CHARS).optional(),
    locale: localeField.optional(),
    page: z
      .object({
        url: pageUrlField(MAX_PAGE_URL_CHARS),
        title: titleField(MAX_PAGE_TITLE_CHARS).optional(),
      })
      .optional(),
  })
  .strict();

export const historyQuerySchema = z.object({
  after: z.coerce.number().int().min(0).max(MAX_SEQ).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const conversationParamsSchema = z.object({ id: z.string().uuid() });
