/**
 * Stands in for your login: the reference server's demo identity provider mints an identity
 * token for any name. Keep the token in memory only.
 */
export async function signIn(sub: string): Promise<string> {
  const response = await fetch('/demo/idp/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub }),
  });
  if (!response.ok) throw new Error(`Sign-in failed: HTTP ${response.status}`);
  const { identityToken } = (await response.json()) as { identityToken: string };
  return identityToken;
}
