import type { ResolveAnswer } from './resolve.service.js';
import { type TwinResponse, twinResponse } from '../twins/index.js';

export interface ResolveResult {
  twins: string[] | TwinResponse[];
}

/** The JSON of one resolution: UUIDs as they are, twin objects in their API shape. */
export function renderResolveAnswer(answer: ResolveAnswer): ResolveResult {
  return answer.details ? { twins: answer.twins.map(twinResponse) } : { twins: answer.twins };
}
