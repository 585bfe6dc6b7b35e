import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ServerSentEventParser } from '../../src/core/parse-server-sent-events.ts';

const stream =
  'retry: 2000\n\n: keep-alive\n\nid: 1\nevent: entry\ndata: {"seq":1}\n\nid: 2\nevent: entry\ndata: {"seq":2}\n\n' +
  'event: unauthorized\ndata: {"code":"ERR_ACCESS_TOKEN_EXPIRED"}\n\ndata: a\ndata: b\n\n';

const expected = [
  { event: 'entry', data: '{"seq":1}', id: '1' },
  { event: 'entry', data: '{"seq":2}', id: '2' },
  { event: 'unauthorized', data: '{"code":"ERR_ACCESS_TOKEN_EXPIRED"}', id: '2' },
  { event: 'message', data: 'a\nb', id: '2' },
];

describe('ServerSentEventParser', () => {
  it('R12: parses entries, comments, retry lines, multi-line data and the last event id', () => {
    expect(new ServerSentEventParser().feed(stream)).toEqual(expected);
  });

  it('R12: gives the same events however the stream is cut into chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: stream.length }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const parser = new ServerSentEventParser();
        const events = [];
        let from = 0;
        for (const to of [...points, stream.length]) {
          events.push(...parser.feed(stream.slice(from, to)));
          from = to;
        }
        expect(events).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('R12: handles CRLF line ends, also cut between CR and LF', () => {
    const parser = new ServerSentEventParser();
    expect(parser.feed('id: 7\r\nevent: entry\r\ndata: x\r')).toEqual([]);
    expect(parser.feed('\n\r\n')).toEqual([{ event: 'entry', data: 'x', id: '7' }]);
  });
});
