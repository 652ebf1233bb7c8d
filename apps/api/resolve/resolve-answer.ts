import type { ResolveAnswer } from './resolve.service.js';
import { type TwinResponse, twinResponse } from '../twins/index.js';

export interface ResolveResult {
  twins: string[] | TwinResponse[];
}

/** The JSON of one resolution: UUIDs as they are, twin objects in their API shape. */
export function renderResolveAnswer(answer: ResolveAnswer): ResolveResult {
  return answer.details ? { twins: answer.twins.map(twinResponse) } : { twins: answer.twins };
}

/**
 * The body of one resolution as JSON text. The commonest answer (details=false: a list of twin UUIDs, which
 * PostgreSQL formats and which need no escaping) is written directly — about 0.3 µs less than the generic
 * serialiser on the hot path — and is ASCII, so its length is its byte count.
 */
export function resolveAnswerJson(answer: ResolveAnswer): string {
  if (answer.details) return JSON.stringify(renderResolveAnswer(answer));
  const ids = answer.twins;
  return ids.length === 0 ? '{"twins":[]}' : `{"twins":["${ids.join('","')}"]}`;
}

/** What a batch answers for a name it could not resolve (an invalid name). */
export interface ResolveError {
  error: { subcode: string; description: string };
}

/**
 * The body of `POST /resolve` as JSON text: `{"results":{name: answer, …}}` with the names in request order (a
 * repeated name once, where it first came), each answer as resolveAnswerJson writes it. Written directly rather
 * than built as an object of 1,000 keys and serialised (bench/README.md, "Cheaper merges and a cheaper batch").
 * `answers` holds valid identity names only; `errorOf` answers a name that has none.
 */
export function batchAnswerJson(
  names: readonly string[],
  answers: ReadonlyMap<string, ResolveAnswer>,
  errorOf: (name: string) => ResolveError,
): string {
  const parts: string[] = new Array<string>(names.length);
  if (answers.size === names.length) {
    // Every name has an answer, so every name is valid and none repeats (the map's keys are distinct). A valid
    // name's characters (identity-name.ts) need no JSON escape: written as they are.
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      parts[i] = `"${name}":${resolveAnswerJson(answers.get(name) as ResolveAnswer)}`;
    }
    return `{"results":{${parts.join(',')}}}`;
  }
  parts.length = 0;
  const written = new Set<string>();
  for (const name of names) {
    if (written.has(name)) continue;
    written.add(name);
    const answer = answers.get(name);
    // JSON.stringify escapes the name: it is caller input.
    parts.push(
      `${JSON.stringify(name)}:${answer !== undefined ? resolveAnswerJson(answer) : JSON.stringify(errorOf(name))}`,
    );
  }
  return `{"results":{${parts.join(',')}}}`;
}
