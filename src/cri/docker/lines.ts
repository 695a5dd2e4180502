/** Splits a chunked byte stream into lines (Docker's events and pull streams are JSON lines in arbitrary chunks). */
export class LineSplitter {
  #buf = '';

  /** Adds a chunk; returns the complete, non-empty lines it finished. */
  push(chunk: Buffer | string): string[] {
    this.#buf += chunk.toString();
    const parts = this.#buf.split('\n');
    this.#buf = parts.pop() ?? '';
    return parts.map((l) => l.trim()).filter((l) => l !== '');
  }

  /** Returns what is left (a last line without a newline) and clears it. */
  flush(): string[] {
    const rest = this.#buf.trim();
    this.#buf = '';
    return rest === '' ? [] : [rest];
  }
}
