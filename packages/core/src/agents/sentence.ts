/** Ends a sentence with a full stop unless it ends with punctuation already ("Alice M."). */
export function sentence(text: string): string {
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}
