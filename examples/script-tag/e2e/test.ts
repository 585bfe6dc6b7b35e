// The kit's fixtures pointed at this app, as docs/testing.md's Setup shows: the tests import
// `test` and `expect` from here.
import { test as base } from 'tabwarden/testing/playwright';
export { expect } from 'tabwarden/testing/playwright';

export const test = base.extend({
  tabwarden: {
    appDir: 'dist/app', // the built app, served at / by the test server (same origin as its API)
    // The test identity provider the app's worker must trust, handed over in the query (app.js).
    appUrl: ({ serverUrl, identityProvider: { issuer, jwksUrl, audience } }) =>
      `${serverUrl}/?${new URLSearchParams({ issuer, jwksUrl, audience })}`,
  },
});
