/** The rule language of docs/rules.md: compile once, evaluate per request. */
export * from './rule-types.js';
export {
  checkRule,
  compileRule,
  MAX_RULE_LENGTH,
  RULE_VARIABLE_NAMES,
  type CheckedRule,
  type CompileOptions,
  type RuleOutcome,
  type RuleProgram,
} from './rule-compiler.js';
export {
  compileRuleCached,
  RuleCompiler,
  DEFAULT_CACHE_SIZE,
  COMPILE_SLICE_UNITS,
  type RuleCompilerOptions,
} from './rule-cache.js';
export { DEFAULT_STEP_BUDGET, REGEX_STEPS_PER_STEP } from './rule-evaluator.js';
export { CHARS_PER_STEP } from './rule-values.js';
export { MAX_RULE_DEPTH, parseRule } from './rule-parser.js';
export { printRule } from './rule-printer.js';
export { assertRuleText, ruleTextProblem } from './rule-check.js';
export { storedRule } from './stored-rule.js';
export { MAX_PATTERN_LENGTH, MAX_REGEX_INPUT_LENGTH, REGEX_STEP_BUDGET } from './rule-regex.js';
export type { RuleNode, BinaryOperator, UnaryOperator, LiteralValue } from './rule-ast.js';
