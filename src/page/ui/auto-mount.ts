import { mountTabwardenUI, type MountedTabwardenUI } from './mount-tabwarden-ui.ts';
import type { TabwardenLike } from './tabwarden-like.ts';

/** The attribute that marks where {@link autoMount} puts the UI. */
export const MOUNT_ATTRIBUTE = 'data-tabwarden-ui';

const READY_EVENT = 'onEmbeddedMessagingReady';

interface ScriptTagGlobal {
  embeddedservice_bootstrap?: { tabwarden?: TabwardenLike };
}

let watching = false;

/**
 * For the script-tag path: once the facade's `onEmbeddedMessagingReady` fires (or at once, if it
 * already has), mounts the UI for `window.embeddedservice_bootstrap.tabwarden` into the first
 * element with a `data-tabwarden-ui` attribute, or floating in `document.body`. Does nothing on a
 * page without the facade. Idempotent; the UI bundle calls it when it loads.
 *
 * @example
 * ```html
 * <script src="/bundles/tabwarden-snippet.js"></script>
 * <script type="module" src="/bundles/tabwarden-ui.js"></script>
 * <!-- optional: where the button goes; without it, it floats bottom-right -->
 * <div data-tabwarden-ui></div>
 * ```
 */
export function autoMount(): void {
  if (watching || typeof window === 'undefined') return;
  watching = true;
  addEventListener(READY_EVENT, () => void mountWhenReady());
  void mountWhenReady();
}

async function mountWhenReady(): Promise<MountedTabwardenUI | undefined> {
  const tw = (globalThis as ScriptTagGlobal).embeddedservice_bootstrap?.tabwarden;
  if (!tw) return undefined;
  if (document.readyState === 'loading') {
    await new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
  }
  const container = document.querySelector(`[${MOUNT_ATTRIBUTE}]`) ?? document.body;
  return mountTabwardenUI(tw, container);
}
