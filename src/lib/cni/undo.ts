/**
 * Rollback by construction: each step that creates something registers how to remove it,
 * and the steps run newest first only when the whole operation fails.
 */
export class UndoStack {
  private readonly steps: {what: string; run: () => Promise<unknown>}[] = [];

  push(what: string, run: () => Promise<unknown>): void {
    this.steps.push({what, run});
  }

  /** Runs every step even when one fails; returns what could not be undone. */
  async unwind(): Promise<string[]> {
    const failures: string[] = [];
    for (const step of this.steps.reverse()) {
      try {
        await step.run();
      } catch (error) {
        failures.push(`${step.what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return failures;
  }
}

export async function withUndo<T>(body: (undo: UndoStack) => Promise<T>): Promise<T> {
  const undo = new UndoStack();
  try {
    return await body(undo);
  } catch (error) {
    const failures = await undo.unwind();
    if (failures.length && error instanceof Error) {
      error.message += ` (rollback left behind: ${failures.join('; ')})`;
    }
    throw error;
  }
}
