/**
 * The Block Kit limits Slack enforces when a message is posted or updated. Slack answers a
 * breach with `invalid_blocks` (or `msg_too_long`), so the fake does too: a renderer that
 * overflows fails its tests here instead of in a real workspace.
 */

/** Most blocks in one message. */
const MAX_BLOCKS = 50;
/** Longest text of a section block, or of one of its fields. */
const MAX_SECTION_TEXT = 3_000;
/** Longest header block text. */
const MAX_HEADER_TEXT = 150;
/** Most elements in a context block. */
const MAX_CONTEXT_ELEMENTS = 10;
/** Most elements in an actions block. */
const MAX_ACTION_ELEMENTS = 25;
/** Longest button label. */
const MAX_BUTTON_TEXT = 75;
/** Longest button value and action_id / block_id. */
const MAX_BUTTON_VALUE = 2_000;
const MAX_ID = 255;
/** Longest top-level `text` Slack accepts (it truncates display at 4,000, refuses past 40,000). */
export const MAX_MESSAGE_TEXT = 40_000;

type Json = Record<string, unknown>;

/** Returns the first problem with `blocks`, in Slack's words, or undefined when valid. */
export function blocksProblem(blocks: unknown): string | undefined {
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) return 'blocks must be an array';
  if (blocks.length > MAX_BLOCKS)
    return `no more than ${MAX_BLOCKS} items allowed [json-pointer:/blocks]`;

  for (const [index, block] of blocks.entries()) {
    const problem = blockProblem(block as Json);
    if (problem !== undefined) return `${problem} [json-pointer:/blocks/${index}]`;
  }
  return undefined;
}

function blockProblem(block: Json): string | undefined {
  if (typeof block !== 'object' || block === null) return 'a block must be an object';
  if (typeof block.block_id === 'string' && block.block_id.length > MAX_ID)
    return 'block_id too long';

  switch (block.type) {
    case 'section':
      return sectionProblem(block);
    case 'header':
      return textProblem(block.text, MAX_HEADER_TEXT, 'header text');
    case 'context':
      return contextProblem(block);
    case 'actions':
      return actionsProblem(block);
    case 'divider':
    case 'rich_text':
    case 'image':
      return undefined;
    default:
      return `unsupported block type "${String(block.type)}"`;
  }
}

function sectionProblem(block: Json): string | undefined {
  if (block.text === undefined && block.fields === undefined)
    return 'a section needs text or fields';

  const textIssue =
    block.text === undefined
      ? undefined
      : textProblem(block.text, MAX_SECTION_TEXT, 'section text');
  if (textIssue !== undefined) return textIssue;
  if (!Array.isArray(block.fields)) return undefined;
  if (block.fields.length > 10) return 'no more than 10 fields allowed';
  return block.fields.map((field) => textProblem(field, 2_000, 'field text')).find(Boolean);
}

function contextProblem(block: Json): string | undefined {
  if (!Array.isArray(block.elements) || block.elements.length === 0)
    return 'a context block needs elements';
  if (block.elements.length > MAX_CONTEXT_ELEMENTS)
    return `no more than ${MAX_CONTEXT_ELEMENTS} context elements allowed`;
  return undefined;
}

function actionsProblem(block: Json): string | undefined {
  if (!Array.isArray(block.elements) || block.elements.length === 0)
    return 'an actions block needs elements';
  if (block.elements.length > MAX_ACTION_ELEMENTS)
    return `no more than ${MAX_ACTION_ELEMENTS} action elements allowed`;
  return block.elements.map((element) => elementProblem(element as Json)).find(Boolean);
}

function elementProblem(element: Json): string | undefined {
  if (element.type !== 'button') return undefined;
  if (typeof element.action_id === 'string' && element.action_id.length > MAX_ID)
    return 'action_id too long';
  if (typeof element.value === 'string' && element.value.length > MAX_BUTTON_VALUE)
    return 'button value too long';
  return textProblem(element.text, MAX_BUTTON_TEXT, 'button text');
}

function textProblem(text: unknown, max: number, what: string): string | undefined {
  if (typeof text !== 'object' || text === null) return `${what} must be a text object`;

  const { type, text: content } = text as Json;
  if (type !== 'mrkdwn' && type !== 'plain_text') return `${what} has unknown type`;
  if (typeof content !== 'string' || content.length === 0) return `${what} must not be empty`;
  if (content.length > max) return `${what} must be less than ${max + 1} characters`;
  return undefined;
}
