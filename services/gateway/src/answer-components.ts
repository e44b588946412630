import { z } from 'zod';

/**
 * The shapes of answers that several routes share, or that the console names, by their id in
 * /openapi.json's `components.schemas` (answers.ts and the modules that define their own).
 */
export const answerComponents = new Map<z.ZodType, string>();

/** Registers `schema` under `id`: the document lists it once and refers to it. */
export function shape<T extends z.ZodType>(id: string, schema: T): T {
  answerComponents.set(schema, id);
  return schema;
}

export const instant = z.iso.datetime();
export const int = z.number().int();
