import { describe, expect, it, vi } from 'vitest';
import { createTestIdentityProvider } from '../../src/testing/index.ts';

// The facade's own logic, without a worker: createTabwarden hands it a client that is ready and
// records what reaches it.
const presented: string[] = [];
vi.mock('../../src/page/create-tabwarden.ts', () => ({
  createTabwarden: () =>
    Promise.resolve({
      ready: true,
      addEventListener: () => undefined,
      setIdentityToken: (token: string) => {
        presented.push(token);
        return Promise.resolve({});
      },
    }),
}));
const { createEmbeddedServiceBootstrap } = await import('../../src/page/embedded-service-bootstrap.ts');

describe('createEmbeddedServiceBootstrap', () => {
  it("R2: the facade's key-less precheck accepts what the configured algorithms allow (RS512)", async () => {
    const idp = await createTestIdentityProvider({ algorithm: 'RS512' });
    const identityToken = await idp.mint();
    const target = new EventTarget();
    const rejected: unknown[] = [];
    target.addEventListener('onEmbeddedMessagingIdentityTokenRejected', (e) =>
      rejected.push((e as CustomEvent).detail),
    );

    const withRs512 = createEmbeddedServiceBootstrap(target as Window);
    await withRs512.init({
      worker: {
        issuer: idp.issuer,
        jwks: idp.jwks,
        serverUrl: 'http://127.0.0.1:1',
        algorithms: ['RS256', 'RS512'],
      },
    });
    expect(withRs512.userVerificationAPI.setIdentityToken({ identityTokenType: 'JWT', identityToken })).toBe(
      true,
    );
    expect(presented).toEqual([identityToken]);
    expect(rejected).toEqual([]);

    // Not configured: refused at once, as before.
    const rs256Only = createEmbeddedServiceBootstrap(target as Window);
    await rs256Only.init({ worker: { issuer: idp.issuer, jwks: idp.jwks, serverUrl: 'http://127.0.0.1:1' } });
    expect(rs256Only.userVerificationAPI.setIdentityToken({ identityTokenType: 'JWT', identityToken })).toBe(
      false,
    );
    expect(rejected).toMatchObject([{ code: 'ERR_TOKEN_ALGORITHM' }]);
    expect(presented).toEqual([identityToken]);
  });
});
