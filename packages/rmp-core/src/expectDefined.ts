/**
 * `value`, which the caller knows to be defined (an index it just checked, a page it just mapped):
 * narrows the type without a cast, and throws an internal error naming `what` if the caller was
 * wrong, rather than carrying `undefined` on.
 */
export function expectDefined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: ${what} is missing`);
  return value;
}
