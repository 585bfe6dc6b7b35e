// The seed's API: init with the worker's settings; hand over an identity token once Ready and
// whenever it expires. Here the token comes from a test (see e2e/); in your app, from your login.
await window.embeddedservice_bootstrap.init({
  worker: {
    issuer: 'urn:tabwarden:demo-identity-provider',
    jwksUrl: '/demo/idp/jwks.json',
    serverUrl: location.origin,
  },
});
