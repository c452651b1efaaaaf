// An OpenAI-compatible Chat Completions server for the LLM judge, written from
// https://platform.openai.com/docs/api-reference/chat/create (logprobs, top_logprobs; the answer's
// choices[0].logprobs.content[0].top_logprobs) as vLLM and SGLang serve it at POST /v1/chat/completions. Its model
// reads the judge prompt (media/prompts/judge.txt): it prefers the response containing "good" (P = 0.7 against 0.2,
// NA 0.1), and answers NA (0.8) when neither or both do. Each request's input is its user message (one per pair
// and order).
import { ConformanceServer, type Handled, start } from './base';

/**
 * A Chat Completions answer of one token with its top logprobs, in the documented shape (choices[0].message and
 * choices[0].logprobs.content[0].top_logprobs): the answer token is the likeliest of `tops`. Shared with the batch
 * tests' judge (test/judges/batchRunner.ts).
 */
export function chatCompletion(id: string, model: string, tops: { token: string; logprob: number }[]) {
  const best = tops.reduce((x, y) => (y.logprob > x.logprob ? y : x));
  return {
    id,
    object: 'chat.completion',
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: best.token },
        logprobs: { content: [{ token: best.token, logprob: best.logprob, top_logprobs: tops }] },
        finish_reason: 'length',
      },
    ],
    usage: { prompt_tokens: 100, completion_tokens: 1, total_tokens: 101 },
  };
}

export function openaiServer(): Promise<ConformanceServer> {
  return start(
    new ConformanceServer((req): Handled => {
      if (req.method !== 'POST' || req.path !== '/v1/chat/completions') return { reply: { status: 404, body: {} } };
      const body = req.json<{ model: string; messages: { role: string; content: string }[] }>();
      const user = body.messages.find((m) => m.role === 'user')?.content ?? '';
      const a = /<response A>\n([\s\S]*?)\n<\/response A>/.exec(user)?.[1] ?? '';
      const b = /<response B>\n([\s\S]*?)\n<\/response B>/.exec(user)?.[1] ?? '';
      const [pA, pB, pNA] =
        a.includes('good') === b.includes('good')
          ? [0.1, 0.1, 0.8]
          : a.includes('good')
            ? [0.7, 0.2, 0.1]
            : [0.2, 0.7, 0.1];
      const tops = [
        { token: 'A', logprob: Math.log(pA) },
        { token: 'B', logprob: Math.log(pB) },
        { token: 'NA', logprob: Math.log(pNA) },
      ];
      return { inputs: [user], reply: { status: 200, body: chatCompletion('chatcmpl-1', body.model, tops) } };
    }),
  );
}
