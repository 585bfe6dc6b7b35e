// The seed's API: init with the worker's settings; hand over an identity token once Ready and
// whenever it expires. Here the token comes from a test (see e2e/); in your app, from your login.
// The identity provider the worker trusts is the reference server's demo one, unless the query
// names another: the tests of e2e/docs.spec.ts hand over the kit's own (see e2e/test.ts).
const query = new URLSearchParams(location.search);
const audience = query.get('audience');
await window.embeddedservice_bootstrap.init({
  worker: {
    issuer: query.get('issuer') ?? 'urn:tabwarden:demo-identity-provider',
    jwksUrl: query.get('jwksUrl') ?? '/demo/idp/jwks.json',
    ...(audience ? { audience } : {}),
    serverUrl: location.origin,
  },
});
