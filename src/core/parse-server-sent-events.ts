/** One server-sent event. */
export interface ServerSentEvent {
  /** `message` when the stream named none. */
  event: string;
  data: string;
  id?: string;
}

/**
 * An incremental parser of the `text/event-stream` format (HTML's server-sent events): feed it
 * text as it arrives, in chunks cut anywhere, and it returns the events completed so far.
 * Comments (`: keep-alive`) and `retry` lines are skipped.
 *
 * @example
 * ```ts
 * const parser = new ServerSentEventParser();
 * for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
 *   for (const { event, data } of parser.feed(chunk)) handle(event, JSON.parse(data));
 * }
 * ```
 */
export class ServerSentEventParser {
  #buffer = '';
  #event = '';
  #data: string[] = [];
  #id: string | undefined;

  feed(chunk: string): ServerSentEvent[] {
    this.#buffer += chunk;
    const events: ServerSentEvent[] = [];
    // LF or CRLF line ends (a lone CR, which no server of ours sends, is not a line end here, so a
    // CRLF cut between two chunks cannot end an event early).
    const lines = this.#buffer.split('\n').map((line) => line.replace(/\r$/, ''));
    // The last piece may be an incomplete line: keep it for the next chunk.
    this.#buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        if (this.#data.length > 0) {
          const event: ServerSentEvent = { event: this.#event || 'message', data: this.#data.join('\n') };
          if (this.#id !== undefined) event.id = this.#id;
          events.push(event);
        }
        this.#event = '';
        this.#data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') this.#event = value;
      else if (field === 'data') this.#data.push(value);
      else if (field === 'id' && !value.includes('\0')) this.#id = value;
    }
    return events;
  }
}
