// The engine clients of `discretion judge reward` (issue 19), one module per engine; each cites the documentation
// it is written against.
import { UsageError } from '../../core/errors';
import { kserveEngine } from './kserve';
import { sglangEngine } from './sglang';
import { type EngineClient, type EngineContext, ENGINE_NAMES, type EngineName } from './shared';
import { teiEngine } from './tei';
import { vllmEngine } from './vllm';

export { ENGINE_NAMES, type EngineClient, type EngineContext, type EngineName } from './shared';
export type { ConversationEncoder } from '../chatTemplate';
export { type ScoreItem, type Scored, scoreItem } from './shared';
export { EngineHttp } from './http';

export function createEngine(name: EngineName, c: EngineContext, o: { kserveBinary?: boolean } = {}): EngineClient {
  switch (name) {
    case 'vllm':
      return vllmEngine(c);
    case 'sglang':
      return sglangEngine(c);
    case 'tei':
      return teiEngine(c);
    case 'kserve':
      return kserveEngine(c, { binary: o.kserveBinary });
    default:
      throw new UsageError(`the engine must be one of ${ENGINE_NAMES.join(', ')}, not "${String(name)}"`, 'engine');
  }
}
