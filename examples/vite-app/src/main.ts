// tabwarden in a Vite app: the page part, its UI, and the worker files from the Vite plugin.
import workers from 'virtual:tabwarden/workers';
import { createTabwarden, isTabwardenError } from 'tabwarden';
import { mountTabwardenUI } from 'tabwarden/ui';
import { signIn } from './sign-in.ts';

const status = document.querySelector<HTMLParagraphElement>('#status')!;
const form = document.querySelector<HTMLFormElement>('#sign-in')!;
const signOut = document.querySelector<HTMLButtonElement>('#sign-out')!;

try {
  const tw = await createTabwarden({
    ...workers,
    // The reference server in demo mode: its identity provider's issuer and keys.
    worker: {
      issuer: 'urn:tabwarden:demo-identity-provider',
      jwksUrl: '/demo/idp/jwks.json',
      serverUrl: location.origin,
    },
  });
  mountTabwardenUI(tw, document.querySelector('#support')!);

  const show = (signedIn: string | undefined) => {
    status.textContent = signedIn ? `Signed in as ${signedIn}` : 'Signed out';
    form.hidden = Boolean(signedIn);
    signOut.hidden = !signedIn;
  };
  tw.addEventListener('verified', (e) => show(e.detail.sub));
  tw.addEventListener('session-cleared', (e) => {
    show(undefined);
    status.textContent = `Signed out (${e.detail.reason})`;
  });
  show(undefined);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = new FormData(form).get('name');
    await tw.setIdentityToken(await signIn(String(name)));
  });
  signOut.addEventListener('click', () => void tw.clearSession());
} catch (error) {
  status.textContent = isTabwardenError(error) ? `${error.code}: ${error.message}` : String(error);
}
