import {Listr, ListrLogger, ProcessOutput, type ListrBaseClassOptions} from 'listr2';
import {type Env, plainProgress} from './terminal.js';

/** One step of an operator command: its title, and the work (which may retitle it as it learns more). */
export interface Step {
  title: string;
  run: (retitle: (title: string) => void) => Promise<void>;
}

/**
 * Options of a listr2 task list for the operator's commands. Progress goes to stderr, so that
 * stdout keeps only the result (launch prints the container id, which scripts capture). The
 * renderer shows no error text: the command prints the error once, in the original's words.
 */
export function taskListOptions<Ctx>(env: Env = process.env): ListrBaseClassOptions<Ctx, 'default', 'simple'> {
  const logger = new ListrLogger({processOutput: new ProcessOutput(process.stderr, process.stderr)});
  return {
    concurrent: false,
    exitOnError: true,
    registerSignalListeners: true,
    renderer: 'default',
    rendererOptions: {logger, showErrorMessage: false, collapseErrors: false},
    fallbackRenderer: 'simple',
    fallbackRendererOptions: {logger},
    fallbackRendererCondition: plainProgress(env),
  };
}

/**
 * Runs the steps in order as a listr2 task list on stderr, stopping at the first failure. The
 * list shows only the first line of a failure; the error itself is rethrown whole, so that the
 * command prints it once.
 */
export async function runSteps(steps: readonly Step[]): Promise<void> {
  let failure: unknown;
  const tasks = steps.map(step => ({
    title: step.title,
    task: async (_: unknown, task: {title: string}) => {
      try {
        await step.run(title => (task.title = title));
      } catch (error) {
        failure = error;
        throw new Error((error as Error).message.split('\n')[0]);
      }
    },
  }));
  try {
    await new Listr(tasks, taskListOptions()).run();
  } catch (error) {
    throw failure ?? error;
  }
}
