// R1–R3 in real Chromium, once per transport: the link coming up, a token verifying one tab
// only, bad tokens changing nothing, and a reload needing a token again. Through the test kit
// (kit-app.ts): tokens from its identity provider, requests counted at its server's front door.
import { createTestIdentityProvider, eventsOf, waitForEvent } from '../../src/testing/index.ts';
import {
  call,
  eventsNamed,
  expectNoTokenStored,
  facadeClearSession,
  facadeSetIdentityToken,
  reload,
  signIn,
  stateOf,
  value,
  whenReady,
  type ConversationEntry,
} from './app-driver.ts';
import { appUrl, expect, test } from './kit-app.ts';

test('R1: Ready fires once the link is up; before it setIdentityToken returns false and clearSession rejects ERR_NOT_READY', async ({
  tabs,
  identityProvider,
  transport,
}) => {
  const [tab] = await tabs.open(1, { url: appUrl(tabs, { query: { deferInit: 1 } }), waitForReady: false });
  const page = tab!;
  const token = await identityProvider.mint('alice');

  // Before init: the facade exists (the seed's pages call it early), but nothing is connected.
  expect(await facadeSetIdentityToken(page, token)).toBe(false);
  expect(await facadeClearSession(page)).toMatchObject({ ok: false, code: 'ERR_NOT_READY' });

  // While init runs (the link is being set up), still not ready: same answers, synchronously.
  const duringInit = await page.evaluate(async (identityToken) => {
    const api = window.embeddedservice_bootstrap.userVerificationAPI;
    const initializing = window.app.init!();
    const accepted = api.setIdentityToken({ identityTokenType: 'JWT', identityToken });
    const cleared = await api.clearSession().then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    );
    await initializing;
    return { accepted, cleared };
  }, token);
  expect(duringInit).toEqual({ accepted: false, cleared: 'ERR_NOT_READY' });
  expect(await eventsNamed(page, 'app:verified')).toHaveLength(0);

  // Ready exactly once, with an empty detail; then the same call is accepted.
  const ready = await waitForEvent(page, 'onEmbeddedMessagingReady');
  expect(ready.detail).toEqual({});
  expect(await eventsNamed(page, 'onEmbeddedMessagingReady')).toHaveLength(1);
  expect(await stateOf(page)).toMatchObject({ ready: true, transport, verified: false });
  expect(await facadeSetIdentityToken(page, token)).toBe(true);
  await waitForEvent(page, 'app:verified');

  // The module API: createTabwarden resolves once ready, on the transport asked for, and
  // dispatches `ready` once.
  const [moduleTab] = await tabs.open(1, { url: appUrl(tabs, { kind: 'app' }) });
  expect(await stateOf(moduleTab!)).toMatchObject({ ready: true, transport, verified: false });
  expect(await eventsNamed(moduleTab!, 'app:ready')).toHaveLength(1);
});

test('R1: five tabs opened at once each get Ready on the transport asked for, and work', async ({
  tabs,
  identityProvider,
  transport,
}) => {
  // As a browser restoring a session opens them. On the in-page transport the first tab takes
  // the lead while the others' first calls are already on their way.
  // A 5 s call limit: a lost first call fails in seconds rather than the default 10.
  const open = await tabs.open(5, { together: true, url: appUrl(tabs, { query: { callTimeoutMs: 5_000 } }) });
  for (const tab of open) {
    expect(await stateOf(tab)).toMatchObject({ ready: true, transport, verified: false });
    expect(await eventsNamed(tab, 'onEmbeddedMessagingReady')).toHaveLength(1);
  }
  const token = await identityProvider.mint('alice');
  for (const tab of open) await signIn(tab, token);
  const ids = await Promise.all(
    open.map((tab) => value<{ conversationId: string }>(tab, 'startConversation')),
  );
  expect(new Set(ids.map((info) => info.conversationId)).size).toBe(1);
});

test('R2/R3: a valid token verifies that tab only; a tab that gave none stays unverified', async ({
  tabs,
  identityProvider,
}) => {
  const [verified, other, moduleTab] = [
    ...(await tabs.open(2)),
    ...(await tabs.open(1, { url: appUrl(tabs, { kind: 'app' }) })),
  ];
  const token = await identityProvider.mint('alice');

  expect(await facadeSetIdentityToken(verified!, token)).toBe(true);
  const claims = await waitForEvent<{ sub: string; iss: string; exp: number }>(verified!, 'app:verified');
  expect(claims.detail).toMatchObject({ sub: 'alice', iss: identityProvider.issuer });
  expect(await stateOf(verified!)).toMatchObject({ verified: true, subject: { sub: 'alice' } });

  // The other tabs, facade and module API, gave no token: unverified, and refused.
  for (const tab of [other!, moduleTab!]) {
    expect(await stateOf(tab)).toMatchObject({ verified: false });
    expect(await call(tab, 'startConversation')).toMatchObject({ ok: false, code: 'ERR_NOT_VERIFIED' });
    expect(await call(tab, 'sendMessage', 'hi')).toMatchObject({ ok: false, code: 'ERR_NOT_VERIFIED' });
    expect(await eventsNamed(tab, 'app:verified')).toHaveLength(0);
  }

  // The verified tab starts the conversation; the others are told nothing of it.
  const { conversationId } = await value<{ conversationId: string }>(verified!, 'startConversation');
  await waitForEvent(verified!, 'onEmbeddedMessagingConversationStarted');
  expect((await stateOf(other!)).conversationId).toBeUndefined();
  expect(await eventsOf(other!, 'onEmbeddedMessagingConversationStarted')).toHaveLength(0);
  expect(await call(other!, 'listEntries', 0)).toMatchObject({ ok: false, code: 'ERR_NOT_VERIFIED' });

  // The module API's answer: the verified claims; verified, that tab joins the conversation.
  expect(await signIn(moduleTab!, token)).toMatchObject({ sub: 'alice', iss: identityProvider.issuer });
  expect(await value(moduleTab!, 'startConversation')).toMatchObject({ conversationId });
  for (const tab of [verified!, other!, moduleTab!]) await expectNoTokenStored(tab, [token]);
});

test('R2: a bad token fires Rejected with its code and changes nothing', async ({
  tabs,
  identityProvider,
}) => {
  const [first, second, moduleTab] = [
    ...(await tabs.open(2)),
    ...(await tabs.open(1, { url: appUrl(tabs, { kind: 'app' }) })),
  ];
  const good = await identityProvider.mint('alice');
  await signIn(first!, good);
  await signIn(second!, good);
  const { conversationId } = await value<{ conversationId: string }>(first!, 'startConversation');
  await value(first!, 'sendMessage', 'before the bad tokens');

  const demoKid = identityProvider.jwks.keys[0]!.kid!;
  const forger = await createTestIdentityProvider({ issuer: identityProvider.issuer, kid: demoKid });
  const stranger = await createTestIdentityProvider({ issuer: 'https://other-idp.example' });
  const unknownKey = await createTestIdentityProvider({
    issuer: identityProvider.issuer,
    kid: 'no-such-key',
  });
  const [header, payload] = good.split('.');
  const withHeader = (fields: Record<string, unknown>) =>
    `${Buffer.from(JSON.stringify(fields)).toString('base64url')}.${payload}.c2ln`;

  // Refused by the worker (the facade says true, "accepted for verification", then Rejected).
  const workerRefusals: Array<[string, string]> = [
    [await forger.mint({ sub: 'alice', claims: { aud: identityProvider.audience } }), 'ERR_TOKEN_SIGNATURE'],
    // Another issuer is a claim error naming iss, never a key error (R2).
    [await stranger.mint({ sub: 'alice', claims: { aud: identityProvider.audience } }), 'ERR_TOKEN_CLAIM'],
    [
      await unknownKey.mint({ sub: 'alice', claims: { aud: identityProvider.audience } }),
      'ERR_TOKEN_KEY_UNKNOWN',
    ],
    [`${header}.${payload}.${'A'.repeat(342)}`, 'ERR_TOKEN_SIGNATURE'],
  ];
  let rejections = 0;
  for (const [token, code] of workerRefusals) {
    expect(await facadeSetIdentityToken(second!, token), code).toBe(true);
    rejections += 1;
    const rejected = await waitForEvent<{ code: string; message: string }>(
      second!,
      'onEmbeddedMessagingIdentityTokenRejected',
      { count: rejections },
    );
    expect(rejected.detail.code).toBe(code);
    expect(typeof rejected.detail.message).toBe('string');
    // The module API rejects with the same code.
    const outcome = await call(moduleTab!, 'setIdentityToken', token);
    expect(outcome).toMatchObject({ ok: false, code: rejected.detail.code });
  }

  // Refused by the facade at once (false), with the Rejected event: wrong type, malformed,
  // over-size, an algorithm or header that is never accepted, already expired.
  const expired = await identityProvider.mint({ sub: 'alice', expiresInSeconds: -30 });
  const facadeRefusals: Array<[string, string, string]> = [
    [good, 'OIDC', 'ERR_TOKEN_TYPE'],
    ['not-a-jwt', 'JWT', 'ERR_TOKEN_MALFORMED'],
    [`${header}.${'A'.repeat(20_000)}.sig`, 'JWT', 'ERR_TOKEN_TOO_LARGE'],
    [withHeader({ alg: 'none', typ: 'JWT' }), 'JWT', 'ERR_TOKEN_ALGORITHM'],
    [withHeader({ alg: 'HS256', typ: 'JWT', kid: demoKid }), 'JWT', 'ERR_TOKEN_ALGORITHM'],
    [
      withHeader({ alg: 'RS256', typ: 'JWT', kid: demoKid, jku: 'https://evil.example/jwks' }),
      'JWT',
      'ERR_TOKEN_HEADER',
    ],
    [expired, 'JWT', 'ERR_TOKEN_EXPIRED'],
  ];
  for (const [token, type, code] of facadeRefusals) {
    expect(await facadeSetIdentityToken(second!, token, type), code).toBe(false);
    rejections += 1;
    const rejected = await waitForEvent<{ code: string }>(
      second!,
      'onEmbeddedMessagingIdentityTokenRejected',
      {
        count: rejections,
      },
    );
    expect(rejected.detail.code).toBe(code);
  }
  expect(await call(moduleTab!, 'setIdentityToken', expired)).toMatchObject({
    ok: false,
    code: 'ERR_TOKEN_EXPIRED',
  });

  // Nothing changed: both tabs verified as alice, same conversation, no clear, still working.
  for (const tab of [first!, second!]) {
    expect(await stateOf(tab)).toMatchObject({ verified: true, subject: { sub: 'alice' }, conversationId });
    expect(await eventsOf(tab, 'tabwarden:session-cleared')).toHaveLength(0);
  }
  expect(await stateOf(moduleTab!)).toMatchObject({ verified: false });
  expect(await eventsNamed(moduleTab!, 'app:verified')).toHaveLength(0);
  const sent = await value<ConversationEntry>(second!, 'sendMessage', 'after the bad tokens');
  expect(sent.conversationId).toBe(conversationId);
  const texts = (await value<ConversationEntry[]>(first!, 'listEntries', 0)).map((entry) => entry.text);
  expect(texts).toEqual(expect.arrayContaining(['before the bad tokens', 'after the bad tokens']));
});

test('R3: after a reload the tab is unverified until it presents a token again, and then rejoins the conversation', async ({
  tabs,
  server,
  identityProvider,
}) => {
  const [stays, reloads] = await tabs.open(2);
  const token = await identityProvider.mint('alice');
  await signIn(stays!, token);
  await signIn(reloads!, token);
  const { conversationId } = await value<{ conversationId: string }>(reloads!, 'startConversation');
  await value(reloads!, 'sendMessage', 'written before the reload');

  await reload(reloads!);
  expect(await stateOf(reloads!)).toMatchObject({ verified: false });
  expect((await stateOf(reloads!)).conversationId).toBeUndefined();
  expect(await call(reloads!, 'listEntries', 0)).toMatchObject({ ok: false, code: 'ERR_NOT_VERIFIED' });
  await expectNoTokenStored(reloads!, [token]);
  // The other tab is untouched by the reload.
  expect(await stateOf(stays!)).toMatchObject({ verified: true, conversationId });
  expect(await eventsOf(stays!, 'tabwarden:session-cleared')).toHaveLength(0);

  // With a token again it rejoins the same conversation, with its history, and no new exchange
  // is needed for that.
  const exchanges = server.count('POST /v1/authorization');
  expect(await facadeSetIdentityToken(reloads!, token)).toBe(true);
  await waitForEvent(reloads!, 'app:verified');
  const { conversationId: rejoined } = await value<{ conversationId: string }>(reloads!, 'startConversation');
  expect(rejoined).toBe(conversationId);
  // Verified again, the tab sees the conversation in its state too, as the tab that stayed does.
  expect(await stateOf(reloads!)).toMatchObject({ verified: true, conversationId });
  const texts = (await value<ConversationEntry[]>(reloads!, 'listEntries', 0)).map((entry) => entry.text);
  expect(texts).toContain('written before the reload');
  expect(server.count('POST /v1/authorization')).toBe(exchanges);
});

test('R3: with identityTokenProvider a tab verifies by itself when ready, and again after a reload', async ({
  tabs,
}) => {
  const [tab] = await tabs.open(1, { url: appUrl(tabs, { kind: 'app', query: { provider: 'carol' } }) });
  const page = tab!;
  const verified = await waitForEvent<{ sub: string }>(page, 'app:verified');
  expect(verified.detail.sub).toBe('carol');
  expect(await stateOf(page)).toMatchObject({ verified: true, subject: { sub: 'carol' } });
  expect(await page.evaluate(() => window.app.providerCalls)).toBe(1);
  await value(page, 'startConversation');

  await reload(page);
  await waitForEvent(page, 'app:verified');
  expect(await stateOf(page)).toMatchObject({ verified: true, subject: { sub: 'carol' } });
  expect(await page.evaluate(() => window.app.providerCalls)).toBe(1);
  await value(page, 'sendMessage', 'verified by the provider');

  // A seed-facade tab with the provider, too.
  const [seedTab] = await tabs.open(1, { url: appUrl(tabs, { query: { provider: 'carol' } }) });
  await waitForEvent(seedTab!, 'app:verified');
  expect(await stateOf(seedTab!)).toMatchObject({ verified: true, subject: { sub: 'carol' } });
  await whenReady(seedTab!);
});
