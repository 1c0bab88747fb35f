/**
 * The text layout behind `kubectl describe`: Go's text/tabwriter as kubectl configures it
 * (minwidth 0, tabwidth 8, padding 2, pad with spaces, no flags), and kubectl's prefix writer,
 * which indents nested blocks by two spaces per level.
 *
 * Why a faithful copy of the algorithm rather than "pad the key column": tabwriter aligns a
 * column only across a *block* of consecutive lines that all have a cell in that column. A line
 * without a tab ends the block, so `kubectl describe` aligns in groups (for example the volume
 * fields, `QoS Class`, `Node-Selectors` and `Tolerations` share one column because nothing
 * without a tab separates them). Reproducing that is what makes our output read exactly like
 * kubectl's.
 */

interface Cell {
  text: string;
  /** Width in code points, as Go counts runes. */
  width: number;
}

/** Go's tabwriter cell padding as kubectl sets it. */
const PADDING = 2;

function runeCount(text: string): number {
  return Array.from(text).length;
}

/**
 * Cells end at a tab; lines end at a newline. A column's width is the widest cell in its block
 * plus the padding; the last cell of a line is never part of a column and is never padded.
 */
export class TabWriter {
  private out = '';
  private lines: Cell[][] = [[]];
  private pendingCell = '';
  private readonly widths: number[] = [];

  /** Buffers text; complete blocks are laid out as soon as they are known to be complete. */
  write(text: string): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch !== '\t' && ch !== '\n' && ch !== '\v' && ch !== '\f') continue;

      this.pendingCell += text.slice(start, i);
      start = i + 1;
      const cellsInLine = this.terminateCell();
      if (ch !== '\n' && ch !== '\f') continue;

      this.lines.push([]);
      // A line of one cell cannot influence the lines after it: lay out what we have.
      if (ch === '\f' || cellsInLine === 1) this.layOut();
    }
    this.pendingCell += text.slice(start);
  }

  /** Lays out everything buffered, as Go's Flush does; later text starts new blocks. */
  flush(): void {
    if (this.pendingCell.length > 0) this.terminateCell();
    this.layOut();
  }

  /** The laid-out text so far (call flush() first to include the buffered tail). */
  text(): string {
    return this.out;
  }

  private terminateCell(): number {
    const line = this.lines[this.lines.length - 1]!;
    line.push({ text: this.pendingCell, width: runeCount(this.pendingCell) });
    this.pendingCell = '';
    return line.length;
  }

  private layOut(): void {
    this.format(0, this.lines.length);
    this.lines = [[]];
  }

  /** Go's recursive block formatter: widths[] holds the widths of the columns to the left. */
  private format(firstLine: number, endLine: number): void {
    const column = this.widths.length;
    let line0 = firstLine;
    for (let row = firstLine; row < endLine; row++) {
      if (column >= this.cellsOf(row).length - 1) continue;

      this.writeLines(line0, row);
      line0 = row;
      let width = 0;
      for (; row < endLine; row++) {
        const cells = this.cellsOf(row);
        if (column >= cells.length - 1) break;
        width = Math.max(width, cells[column]!.width + PADDING);
      }

      this.widths.push(width);
      this.format(line0, row);
      this.widths.pop();
      line0 = row;
    }
    this.writeLines(line0, endLine);
  }

  private writeLines(firstLine: number, endLine: number): void {
    for (let row = firstLine; row < endLine; row++) {
      this.cellsOf(row).forEach((cell, j) => {
        this.out += cell.text;
        const columnWidth = this.widths[j];
        if (columnWidth !== undefined) this.out += ' '.repeat(columnWidth - cell.width);
      });
      // The last buffered line has no newline yet: it is still being written.
      if (row + 1 < this.lines.length) this.out += '\n';
    }
  }

  private cellsOf(row: number): Cell[] {
    return this.lines[row]!;
  }
}

/** kubectl replaces these so that cluster data cannot drive the reader's terminal. */
function escapeTerminal(text: string): string {
  return text.replaceAll('\x1b', '^[').replaceAll('\r', '\\r');
}

/** kubectl's PrefixWriter: text at an indentation level of two spaces per level. */
export class PrefixWriter {
  private readonly tabs = new TabWriter();

  /** Writes `text` (which may hold tabs and newlines) indented by `level` * 2 spaces. */
  write(level: number, text: string): void {
    this.tabs.write(escapeTerminal('  '.repeat(level) + text));
  }

  /** Ends the current alignment blocks, as kubectl does before the Events table. */
  flush(): void {
    this.tabs.flush();
  }

  /** The finished text. */
  finish(): string {
    this.tabs.flush();
    return this.tabs.text();
  }
}
