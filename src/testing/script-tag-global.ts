// The global the script-tag build defines, typed for tests that drive it with page.evaluate
// (`window.embeddedservice_bootstrap.userVerificationAPI.setIdentityToken(...)`): importing
// tabwarden/testing brings this declaration along.
import type { EmbeddedServiceBootstrap } from '../page/embedded-service-bootstrap.ts';

declare global {
  interface Window {
    embeddedservice_bootstrap: EmbeddedServiceBootstrap;
  }
}
