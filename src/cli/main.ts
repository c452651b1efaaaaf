// The `discretion` command line: the same core and store as the VS Code extension.
import { Command, CommanderError } from 'commander';
import pkg from '../../package.json';
import { registerConsistencyCommands } from './commands/consistency';
import { registerDataCommands } from './commands/data';
import { registerDemoCommand } from './commands/demo';
import { registerMetricsCommands } from './commands/metrics';
import { registerReportCommand } from './commands/report';
import { registerJudgeCommands } from './commands/judge';
import { escapeControls } from '../core/terminalSafe';
import { registerTeamCommands } from './commands/team';
import { registerSyncCommand } from './commands/sync';
import { registerReviewCommands } from './commands/review';
import { reportError } from './context';

export function buildProgram(): Command {
  const program = new Command('discretion')
    .description(
      'Discretion Workbench: annotate safety preference pairs against principles and measure alignment discretion.',
    )
    .version(pkg.version)
    // A usage error is one line, like every other error, with its arguments' control characters escaped.
    .configureOutput({
      outputError: (text, write) =>
        write(`discretion: ${escapeControls(text.trim().replace(/^error: /, ''))} (run with --help for usage)\n`),
    })
    .exitOverride();
  registerDataCommands(program);
  registerMetricsCommands(program);
  registerConsistencyCommands(program);
  registerDemoCommand(program);
  registerReportCommand(program);
  registerJudgeCommands(program);
  registerTeamCommands(program);
  registerSyncCommand(program);
  registerReviewCommands(program);
  return program;
}

let pipesQuiet = false;

/**
 * A reader that closes the pipe early (`discretion info | head -1`) is not an error: the rest of the output
 * is dropped (Node destroys the stream, later writes go nowhere) and the command ends as it would have,
 * instead of dying on an unhandled EPIPE with a stack trace. Other write errors stay errors.
 */
function quietBrokenPipes(): void {
  if (pipesQuiet) return;
  pipesQuiet = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
}

export async function main(argv: string[]): Promise<number> {
  quietBrokenPipes();
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode; // commander already printed help or the usage error
    return reportError(e);
  }
}
