// Pure UI state of the pair card and its key map. No DOM, no messaging: unit-tested directly.
import type { GridChoice, OverallChoice } from '../../src/core/preferences';
import type { CardView, ModelView } from '../../src/shared/workbenchProtocol';

export interface UiState {
  pairIdx: number;
  overall: OverallChoice | null;
  grid: GridChoice[];
  /** Grid row the A/B/N keys apply to; null = the overall choice. */
  selectedRow: number | null;
  flagged: boolean;
  /** Model judgments shown after submitting; the next Enter advances. */
  revealed: ModelView[] | null;
  busy: boolean;
  showHelp: boolean;
  notice: string;
}

export type Effect =
  | { kind: 'submit' }
  | { kind: 'skip' }
  | { kind: 'advance' }
  | { kind: 'focusRationale' }
  | null;

export function initialState(card: CardView): UiState {
  return {
    pairIdx: card.pairIdx,
    overall: card.existing?.overall ?? null,
    grid: card.existing ? card.principles.map((_, i) => card.existing!.grid[i] ?? null) : card.principles.map(() => null),
    selectedRow: null,
    flagged: card.existing?.flagged ?? false,
    revealed: null,
    busy: false,
    showHelp: false,
    notice: '',
  };
}

/** The key map, shown on screen (keys are case-insensitive). */
export const KEYMAP: readonly { keys: string; action: string }[] = [
  { keys: 'A / B', action: 'overall: Response A / Response B better (or, with a principle row selected: that row favours A / B)' },
  { keys: 'T', action: 'overall: tie' },
  { keys: 'X', action: 'overall: both unacceptable' },
  { keys: '1-9', action: 'select principle row' },
  { keys: 'N', action: 'selected row: neither' },
  { keys: 'Backspace', action: 'selected row: unanswered' },
  { keys: '↑ / ↓', action: 'previous / next principle row' },
  { keys: 'Esc / 0', action: 'back to the overall choice (leaves the rationale box)' },
  { keys: 'Enter', action: 'submit and advance' },
  { keys: 'S', action: 'skip this pair' },
  { keys: 'R', action: 'write a rationale' },
  { keys: 'F', action: 'flag for review' },
  { keys: 'Alt+N / Alt+P', action: 'next / previous pair (commands, rebindable)' },
  { keys: 'Alt+Z', action: 'undo the last submission (command, rebindable)' },
  { keys: '?', action: 'show / hide this key map' },
];

const nextRow = (s: UiState, row: number) => (row + 1 < s.grid.length ? row + 1 : null);

/** Applies one key press. Modifier keys are never handled here (they belong to VS Code keybindings). */
export function reduceKey(s: UiState, key: string): { state: UiState; effect: Effect } {
  const none = (state: UiState) => ({ state, effect: null as Effect });
  if (s.busy) return none(s);
  const k = key.length === 1 ? key.toLowerCase() : key;
  if (s.revealed) {
    if (k === 'Enter' || k === ' ') return { state: { ...s, busy: true }, effect: { kind: 'advance' } };
    return none(s);
  }
  if (/^[1-9]$/.test(k)) {
    const row = Number(k) - 1;
    return row < s.grid.length ? none({ ...s, selectedRow: row, notice: '' }) : none({ ...s, notice: `There is no principle row ${k}.` });
  }
  switch (k) {
    case '0':
    case 'Escape':
      return none({ ...s, selectedRow: null });
    case 'ArrowDown':
      return none({ ...s, selectedRow: s.grid.length === 0 ? null : s.selectedRow === null ? 0 : Math.min(s.selectedRow + 1, s.grid.length - 1) });
    case 'ArrowUp':
      return none({ ...s, selectedRow: s.selectedRow === null || s.selectedRow === 0 ? null : s.selectedRow - 1 });
    case 'a':
    case 'b':
    case 'n':
    case 'Backspace':
    case 'Delete': {
      if (s.selectedRow !== null) {
        const value: GridChoice = k === 'a' ? 'A' : k === 'b' ? 'B' : k === 'n' ? 'neither' : null;
        const grid = s.grid.slice();
        grid[s.selectedRow] = value;
        return none({ ...s, grid, selectedRow: nextRow(s, s.selectedRow), notice: '' });
      }
      if (k === 'a' || k === 'b') return none({ ...s, overall: k === 'a' ? 'A' : 'B', notice: '' });
      if (k === 'n') return none({ ...s, notice: 'Select a principle row first (1-9), then N for neither.' });
      return none(s);
    }
    case 't':
      return none({ ...s, overall: 'tie', selectedRow: null, notice: '' });
    case 'x':
      return none({ ...s, overall: 'both_unacceptable', selectedRow: null, notice: '' });
    case 'f':
      return none({ ...s, flagged: !s.flagged });
    case '?':
      return none({ ...s, showHelp: !s.showHelp });
    case 'r':
      return { state: s, effect: { kind: 'focusRationale' } };
    case 's':
      return { state: { ...s, busy: true }, effect: { kind: 'skip' } };
    case 'Enter':
      if (s.overall === null) return none({ ...s, notice: 'Choose an overall answer first: A, B, T (tie) or X (both unacceptable).' });
      return { state: { ...s, busy: true, selectedRow: null, notice: '' }, effect: { kind: 'submit' } };
    default:
      return none(s);
  }
}

/** Clicks go through the same state transitions as keys. */
export function setGrid(s: UiState, row: number, value: GridChoice): UiState {
  const grid = s.grid.slice();
  grid[row] = value;
  return { ...s, grid, selectedRow: row };
}
