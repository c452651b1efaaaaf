// A hand-written ConversationEncoder for the conformance model (score.ts): the template renders BOS once, encode
// gives its ids cut to `maxLength`, and `bosToken` tells a server-tokenizing engine (SGLang, TEI) which BOS to cut.
import type { ConversationEncoder } from '../../../src/judges/engines';
import { BOS, PAD_ID, renderChat, tokenize } from './score';

export function conformanceEncoder(maxLength = 1 << 20): ConversationEncoder {
  return {
    render: (messages) => renderChat(messages),
    encode(messages) {
      const ids = tokenize(renderChat(messages).slice(BOS.length));
      return ids.length > maxLength ? { ids: ids.slice(0, maxLength), truncated: true } : { ids, truncated: false };
    },
    padId: PAD_ID,
    bosToken: BOS,
  };
}
