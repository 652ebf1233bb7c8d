/**
 * The variables a rule reads, as paths (`DICT.site`, `TWIN["serial-no"]`, `DICT.sites[0]`, `now`), and which of
 * them were null for one evaluation: the "missing context values" of an explanation (docs/resolution.md
 * "Explaining an answer"). Diagnostics only; nothing here decides anything.
 */
import type { RuleNode } from './rule-ast.js';
import { printString } from './rule-printer.js';
import type { RuleVariableName, RuleVariables } from './rule-types.js';

/** A variable and the attribute names or indices read from it, all written literally in the rule. */
export interface RulePath {
  readonly variable: string;
  readonly keys: readonly (string | number)[];
  /** As a reader writes it: `DICT.site`, `TWIN["serial-no"]`, `DICT.sites[0]`. */
  readonly text: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Every path the rule reads, each once, in order of appearance. A read with a computed key (`DICT[USER.k]`) counts
 * as a read of what it indexes (`DICT`) and of what computes the key (`USER.k`).
 */
export function rulePaths(ast: RuleNode): RulePath[] {
  const found = new Map<string, RulePath>();
  const visit = (node: RuleNode): void => {
    const path = pathOf(node);
    if (path !== null) {
      if (!found.has(path.text)) found.set(path.text, path);
      return;
    }
    switch (node.kind) {
      case 'literal':
      case 'variable':
        return;
      case 'array':
        return node.items.forEach(visit);
      case 'mapping':
        for (const entry of node.entries) {
          visit(entry.key);
          visit(entry.value);
        }
        return;
      case 'attribute':
        return visit(node.object);
      case 'index':
        visit(node.object);
        return visit(node.index);
      case 'unary':
        return visit(node.operand);
      case 'binary':
        visit(node.left);
        return visit(node.right);
      case 'ternary':
        visit(node.condition);
        visit(node.then);
        return visit(node.otherwise);
    }
  };
  visit(ast);
  return Array.from(found.values());
}

/** The path a node reads when it is a variable followed only by literal attribute names and indices, else null. */
function pathOf(node: RuleNode): RulePath | null {
  switch (node.kind) {
    case 'variable':
      return { variable: node.name, keys: [], text: node.name };
    case 'attribute': {
      const base = pathOf(node.object);
      if (base === null) return null;
      const text = IDENTIFIER.test(node.name)
        ? `${base.text}.${node.name}`
        : `${base.text}[${printString(node.name)}]`;
      return { variable: base.variable, keys: [...base.keys, node.name], text };
    }
    case 'index': {
      const base = pathOf(node.object);
      const key = node.index;
      if (base === null || key.kind !== 'literal') return null;
      if (typeof key.value === 'string') {
        return {
          variable: base.variable,
          keys: [...base.keys, key.value],
          text: `${base.text}[${printString(key.value)}]`,
        };
      }
      if (typeof key.value !== 'number' || !Number.isInteger(key.value)) return null;
      return { variable: base.variable, keys: [...base.keys, key.value], text: `${base.text}[${key.value}]` };
    }
    default:
      return null;
  }
}

/**
 * The value a path reads, or null when it reads nothing: a variable that is null or a missing attribute. A read the
 * rule could not make at all (an attribute of a number, an index out of range) is not null: it is an error, which
 * the evaluation reports itself; undefined then.
 */
export function valueAt(path: RulePath, vars: RuleVariables): unknown {
  let value: unknown = vars[path.variable as RuleVariableName] ?? null;
  for (const key of path.keys) {
    if (value === null) return null;
    if (typeof key === 'number') {
      if (!Array.isArray(value) && typeof value !== 'string') return undefined;
      const length = value.length;
      const i = key < 0 ? length + key : key;
      // Out of range is an evaluation error in the rule language, not a null.
      if (i < 0 || i >= length) return undefined;
      value = (value[i] as unknown) ?? null;
    } else {
      if (typeof value !== 'object' || Array.isArray(value)) return undefined;
      value = Object.hasOwn(value, key) ? ((value as Record<string, unknown>)[key] ?? null) : null;
    }
  }
  return value;
}

/** The paths among `paths` that were null with these variables, in order. */
export function nullPaths(paths: readonly RulePath[], vars: RuleVariables): RulePath[] {
  return paths.filter((path) => valueAt(path, vars) === null);
}
