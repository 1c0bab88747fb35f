/** The request layer: command text → validated drill request, and its help text. */
export { parseCommand, parseTokens } from './parse.js';
export { helpText, type HelpOptions } from './help.js';
export { MAX_COMMAND_CHARS } from './characters.js';
export {
  MAX_CPU_MILLICORES,
  MAX_KILLS,
  MAX_TIMEOUT_SECONDS,
  MIN_MEMORY_BYTES,
  MIN_TIMEOUT_SECONDS,
} from './values.js';
export {
  STRESS_METHODS,
  type DrillRequest,
  type ParsedCommand,
  type RequestDefaults,
  type StressMethod,
} from './types.js';
