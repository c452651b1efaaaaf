// The scoring worker: a child process (bundled to dist/judge-worker.js) that holds the onnxruntime
// session, so that a native crash or an out-of-memory ends this process, not VS Code or the CLI.
import { InputError, UsageError } from '../core/errors';
import { RewardScorer } from './scorer';
import { type ErrorMessage, type FromWorker, ScoreItemError, type ToWorker } from './workerProtocol';

let scorer: RewardScorer | undefined;

function send(m: FromWorker): void {
  process.send!(m);
}

function errorMessage(e: unknown, id?: number): ErrorMessage {
  if (e instanceof InputError)
    return {
      type: 'error',
      id,
      kind: 'InputError',
      message: e.message,
      file: e.file,
      line: e.line,
      field: e.field,
      problem: e.problem,
      option: e.option,
      ...(e instanceof ScoreItemError ? { item: e.item } : {}),
    };
  if (e instanceof UsageError) return { type: 'error', id, kind: 'UsageError', message: e.message, option: e.option };
  return { type: 'error', id, kind: 'Error', message: e instanceof Error ? e.message : String(e) };
}

// Messages are handled one at a time, in order.
let queue: Promise<void> = Promise.resolve();
process.on('message', (m: ToWorker) => {
  queue = queue.then(async () => {
    try {
      if (m.type === 'init') {
        scorer = await RewardScorer.open(m.modelDir, {
          provider: m.provider,
          batchSize: m.batchSize,
          maxBatchTokens: m.maxBatchTokens,
          threads: m.threads,
        });
        send({
          type: 'ready',
          provider: scorer.provider,
          attempts: scorer.attempts,
          maxLength: scorer.settings.maxLength,
          truncationSide: scorer.settings.truncationSide,
          batchSize: scorer.batchSize,
          chatTemplate: scorer.conversation
            ? { file: scorer.conversation.source.file, field: scorer.conversation.source.field }
            : null,
        });
      } else if (m.type === 'score') {
        if (!scorer) throw new Error('score before init');
        const r = await scorer.score(m.items);
        send({ type: 'scores', id: m.id, ...r });
      } else if (m.type === 'exit') {
        await scorer?.release();
        process.exit(0);
      }
    } catch (e) {
      send(errorMessage(e, m.type === 'score' ? m.id : undefined));
    }
  });
});
process.on('disconnect', () => process.exit(0));
