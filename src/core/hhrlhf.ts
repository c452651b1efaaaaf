// HH-RLHF dialogues -> (context, y0, y1). Spec section 1: split at the longest common prefix that
// ends at a "\n\nAssistant:" boundary. A naive split at the last "\n\nAssistant:" is wrong when a
// response itself contains that text.

const ASSISTANT = '\n\nAssistant:';

export interface SplitDialogue {
  /** Shared context, ending with "\n\nAssistant:". */
  prompt: string;
  /** Final assistant turn of `rejected` (leading space kept trimmed off). */
  y0: string;
  /** Final assistant turn of `chosen`. */
  y1: string;
}

/**
 * Returns null when the two dialogues share no "\n\nAssistant:" boundary (the caller reports it).
 * The responses keep their text exactly, minus the single space that follows "Assistant:".
 */
export function splitHHDialogue(chosen: string, rejected: string): SplitDialogue | null {
  let common = 0;
  const max = Math.min(chosen.length, rejected.length);
  while (common < max && chosen.charCodeAt(common) === rejected.charCodeAt(common)) common++;
  // The boundary must end inside the common prefix: the last "\n\nAssistant:" that fits in it.
  const boundary = chosen.lastIndexOf(ASSISTANT, common - ASSISTANT.length);
  if (boundary < 0 || common < ASSISTANT.length) return null;
  const cut = boundary + ASSISTANT.length;
  return {
    prompt: chosen.slice(0, cut),
    y0: stripLeadingSpace(rejected.slice(cut)),
    y1: stripLeadingSpace(chosen.slice(cut)),
  };
}

function stripLeadingSpace(s: string): string {
  return s.startsWith(' ') ? s.slice(1) : s;
}

/** One turn of a conversation as the workbench card shows it. */
export interface Turn {
  role: 'human' | 'assistant' | 'context';
  text: string;
}

/** Splits an HH-RLHF style context ("\n\nHuman: ... \n\nAssistant: ...") into turns. */
export function splitTurns(prompt: string): Turn[] {
  const re = /(?:^|\n\n)(Human|Assistant|User):\s?/g;
  const marks: { role: Turn['role']; start: number; end: number }[] = [];
  for (let m; (m = re.exec(prompt));)
    marks.push({ role: m[1] === 'Assistant' ? 'assistant' : 'human', start: m.index, end: m.index + m[0].length });
  if (marks.length === 0) return [{ role: 'human', text: prompt }];
  const turns: Turn[] = [];
  const head = prompt.slice(0, marks[0].start).trim();
  if (head) turns.push({ role: 'context', text: head });
  marks.forEach((m, i) =>
    turns.push({
      role: m.role,
      text: prompt.slice(m.end, i + 1 < marks.length ? marks[i + 1].start : prompt.length).trim(),
    }),
  );
  return turns;
}
