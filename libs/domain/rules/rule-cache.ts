/**
 * Compiled rules by text, once per distinct text (docs/rules.md "Compiling"), and the background compiling of the
 * rules that requests could not afford to compile themselves (deferred-rule.ts).
 */
import { DeferredRule, type DeferredRuleHost } from './deferred-rule.js';
import { compileRule, type CompileOptions, type RuleProgram } from './rule-compiler.js';
import type { CompiledRule } from './rule-types.js';

export const DEFAULT_CACHE_SIZE = 10_000;

/**
 * Compile units one background slice spends before it yields to whatever else the process has to do — about a
 * quarter of a millisecond — plus at most one piece of work beyond it (a check ≈ 16,000 units, a regex program ≤
 * 2,048, the final build ≈ 2,048): well under a millisecond however costly the rules.
 */
export const COMPILE_SLICE_UNITS = 25_000;

export interface RuleCompilerOptions extends CompileOptions {
  /** Distinct rule texts kept compiled; the least recently used is dropped beyond this. */
  readonly maxEntries?: number;
  /** Runs a background compile slice later; the process default lets queued I/O (requests) go first. */
  readonly schedule?: (slice: () => void) => void;
  /** Compile units per background slice (COMPILE_SLICE_UNITS). */
  readonly sliceUnits?: number;
}

/**
 * setImmediate runs after the I/O callbacks already waiting: every request that arrived meanwhile is served
 * between two slices. Not a clock, not I/O: the one place the domain asks the runtime to call it back.
 */
const afterPendingIo = (slice: () => void): void => {
  setImmediate(slice);
};

/**
 * Compiles each distinct text once. Callers compile on every resolve (rules come from cached rows as text),
 * so a hit must be cheap: one Map lookup plus a reinsert to keep least-recently-used order. Invalid texts are not
 * cached by `compile`; they are rejected at write time and so are rare at read time.
 */
export class RuleCompiler implements DeferredRuleHost {
  private readonly cache = new Map<string, RuleProgram | DeferredRule>();
  private readonly maxEntries: number;
  private readonly schedule: (slice: () => void) => void;
  private readonly sliceUnits: number;
  /** Deferred rules a request could not afford, in arrival order, compiled by the background slices. */
  private readonly waiting = new Set<DeferredRule>();
  private scheduled = false;

  constructor(private readonly options: RuleCompilerOptions = {}) {
    this.maxEntries = Math.max(1, options.maxEntries ?? DEFAULT_CACHE_SIZE);
    this.schedule = options.schedule ?? afterPendingIo;
    this.sliceUnits = Math.max(1, options.sliceUnits ?? COMPILE_SLICE_UNITS);
  }

  /** The compiled rule now, whatever it costs (write-time checks, tests, diagnostics); throws InvalidRuleError. */
  compile(text: string): RuleProgram {
    const hit = this.touch(text);
    if (hit !== undefined && !(hit instanceof DeferredRule)) return hit;
    const rule = compileRule(text, this.options);
    if (hit !== undefined) {
      // Rows loaded meanwhile hold the deferred rule: it now evaluates with this one, nothing left to queue.
      hit.adopt(rule);
      this.waiting.delete(hit);
    }
    this.store(text, rule);
    return rule;
  }

  /**
   * A stored rule as read with its row: the compiled rule when there is one (the hot path: a lookup), else a
   * DeferredRule that compiles when evaluated, within the evaluating request's compile units. Never throws: a text
   * that no longer compiles is false for everyone.
   */
  stored(text: string): CompiledRule {
    const hit = this.touch(text);
    if (hit !== undefined) return hit;
    const rule = new DeferredRule(text, this, this.options);
    this.store(text, rule);
    return rule;
  }

  later(rule: DeferredRule): void {
    if (this.waiting.size >= this.maxEntries) {
      // Bounded like the cache: a rule dropped here is queued again by the next request that evaluates it.
      const oldest = this.waiting.values().next();
      if (oldest.done !== true) this.waiting.delete(oldest.value);
    }
    this.waiting.add(rule);
    this.wake();
  }

  built(rule: DeferredRule, program: RuleProgram | null): void {
    this.waiting.delete(rule);
    // A text that no longer compiles keeps its DeferredRule (false for everyone, nothing left to compile).
    if (program !== null && this.cache.get(rule.source) === rule) this.cache.set(rule.source, program);
  }

  /** Rules waiting to be compiled in the background. */
  get pending(): number {
    return this.waiting.size;
  }

  get size(): number {
    return this.cache.size;
  }

  clear(): void {
    this.cache.clear();
    this.waiting.clear();
  }

  private touch(text: string): RuleProgram | DeferredRule | undefined {
    const hit = this.cache.get(text);
    if (hit !== undefined) {
      this.cache.delete(text);
      this.cache.set(text, hit);
    }
    return hit;
  }

  private store(text: string, rule: RuleProgram | DeferredRule): void {
    if (!this.cache.has(text) && this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    this.cache.set(text, rule);
  }

  private wake(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => this.slice());
  }

  /** One background slice: compiles waiting rules, oldest first, until it has spent its units; then yields. */
  private slice(): void {
    this.scheduled = false;
    let spent = 0;
    for (const rule of this.waiting) {
      if (spent >= this.sliceUnits) break;
      spent += rule.step(this.sliceUnits - spent);
      if (rule.compiled) this.waiting.delete(rule);
    }
    if (this.waiting.size > 0) this.wake();
  }
}

const sharedCompiler = new RuleCompiler();

/** compileRule through the process-wide RuleCompiler (10,000 texts). */
export function compileRuleCached(text: string): RuleProgram {
  return sharedCompiler.compile(text);
}

/** RuleCompiler.stored on the process-wide compiler: how rows and roles read their stored rule texts. */
export function storedRuleText(text: string): CompiledRule {
  return sharedCompiler.stored(text);
}
