import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { IdentityTokenError, isErrorCode } from '../../src/core/errors.ts';
import { precheckIdentityToken } from '../../src/core/inspect-identity-token.ts';
import {
  createIdentityTokenVerifier,
  type IdentityTokenVerifier,
} from '../../src/core/verify-identity-token.ts';
import { createBadTokenCorpus } from '../fixtures/bad-token-corpus.ts';

let verifier: IdentityTokenVerifier;
let good: string;
beforeAll(async () => {
  const corpus = await createBadTokenCorpus();
  verifier = createIdentityTokenVerifier(corpus.verifierOptions);
  good = await corpus.mintGood('alice', 3600);
});

/** Verifies `input` and expects a coded IdentityTokenError: never acceptance, never an uncoded throw. */
async function expectRefused(input: unknown): Promise<void> {
  const outcome = await verifier.verify(input).then(
    () => 'accepted',
    (error: unknown) => (error instanceof IdentityTokenError && isErrorCode(error.code) ? 'coded' : error),
  );
  expect(outcome).toBe('coded');
  const check = precheckIdentityToken({ identityTokenType: 'JWT', identityToken: input }, Date.now());
  if (!check.ok) expect(isErrorCode(check.error.code)).toBe(true);
}

const base64urlPart = fc.stringMatching(/^[A-Za-z0-9_-]{0,60}$/);

describe('identity-token verification under fuzzing', () => {
  it('R2: random strings are never accepted and always give a coded error', async () => {
    await fc.assert(fc.asyncProperty(fc.string({ maxLength: 200 }), expectRefused), { numRuns: 2_000 });
  });

  it('R2: JWT-shaped garbage is never accepted and always gives a coded error', async () => {
    const jsonPart = fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value)).toString('base64url'));
    const shaped = fc.oneof(
      fc.tuple(base64urlPart, base64urlPart, base64urlPart).map((parts) => parts.join('.')),
      fc.tuple(jsonPart, jsonPart, base64urlPart).map((parts) => parts.join('.')),
      fc
        .tuple(fc.constantFrom('RS256', 'RS512', 'none', 'HS256'), jsonPart, base64urlPart)
        .map(
          ([alg, payload, sig]) =>
            `${Buffer.from(JSON.stringify({ alg })).toString('base64url')}.${payload}.${sig}`,
        ),
      fc.anything(),
    );
    await fc.assert(fc.asyncProperty(shaped, expectRefused), { numRuns: 2_000 });
  });

  it('R2: no single-byte change of a valid token is accepted, and each gives a coded error', async () => {
    expect((await verifier.verify(good)).sub).toBe('alice');
    const mutation = fc
      .record({ index: fc.nat({ max: good.length - 1 }), char: fc.integer({ min: 0x20, max: 0x7e }) })
      .filter(({ index, char }) => good.charCodeAt(index) !== char)
      // base64url's last character of a part may carry unused bits: changing only those bits
      // decodes to the same bytes, so the token is byte-for-byte the same JWS. Skip those.
      .filter(({ index, char }) => {
        const mutated = good.slice(0, index) + String.fromCharCode(char) + good.slice(index + 1);
        const decode = (t: string) => t.split('.').map((p) => Buffer.from(p, 'base64url').toString('hex'));
        return /[^A-Za-z0-9_.-]/.test(mutated) || decode(mutated).join('.') !== decode(good).join('.');
      })
      .map(({ index, char }) => good.slice(0, index) + String.fromCharCode(char) + good.slice(index + 1));
    await fc.assert(fc.asyncProperty(mutation, expectRefused), { numRuns: 2_000 });
  });
});
