// @vitest-environment jsdom
// The chat panel's own bookkeeping, in jsdom with a scripted client: what no e2e run can time.
import { beforeAll, describe, expect, it } from 'vitest';
import type { TabwardenLike } from '../../../src/page/ui/tabwarden-like.ts';

beforeAll(async () => {
  // jsdom has no constructable stylesheets; the panel only hands one to its shadow root.
  globalThis.CSSStyleSheet ??= class {
    replaceSync(): void {}
  } as unknown as typeof CSSStyleSheet;
  const { defineTabwardenElements } = await import('../../../src/page/ui/define-tabwarden-elements.ts');
  defineTabwardenElements();
});

/** A client whose `startConversation` calls wait until the test answers them, in order. */
function scriptedClient() {
  const starts: Array<(value: { conversationId: string }) => void> = [];
  const client = Object.assign(new EventTarget(), {
    state: { verified: true } as { verified: boolean; conversationId?: string },
    startConversation: () => new Promise<{ conversationId: string }>((resolve) => starts.push(resolve)),
    listEntries: async () => [],
    listOutbox: async () => [],
    sendMessage: async () => {
      throw new Error('not in this test');
    },
    retryMessage: async () => undefined,
    discardMessage: async () => undefined,
    watchEntries: () => () => undefined,
  });
  const emit = (type: string, detail: unknown) => client.dispatchEvent(new CustomEvent(type, { detail }));
  return { client: client as unknown as TabwardenLike, starts, emit };
}

/** Lets every pending microtask run: the scripted client does no I/O, so nothing else is pending. */
const flushMicrotasks = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('<tabwarden-chat-panel>', () => {
  it('R4/R7: a start from before a clear, ending late, does not let a third start run beside the second', async () => {
    const { client, starts, emit } = scriptedClient();
    const panel = document.createElement('tabwarden-chat-panel');
    panel.tabwarden = client;
    document.body.append(panel);

    panel.show({ focus: false });
    expect(starts).toHaveLength(1);
    emit('session-cleared', { reason: 'logout' });
    panel.show({ focus: false });
    expect(starts).toHaveLength(2);

    // The first start answers after the clear: its end must not forget the second, still running.
    starts[0]!({ conversationId: 'c-old' });
    await flushMicrotasks();
    panel.hide();
    panel.show({ focus: false });
    expect(starts).toHaveLength(2);
    panel.remove();
  });
});
