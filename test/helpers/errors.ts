// What a promise failed with, as a stable code: tests assert on codes, never on messages.

/** The rejection's `code` (or its text when it has none), or "no error" when the promise resolved. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return "no error";
}
