// The script-tag build: defines `window.embeddedservice_bootstrap` for pages written against
// the seed's client. The page then calls `embeddedservice_bootstrap.init(settings)`.
import {
  createEmbeddedServiceBootstrap,
  type EmbeddedServiceBootstrap,
} from './embedded-service-bootstrap.ts';

declare global {
  interface Window {
    embeddedservice_bootstrap: EmbeddedServiceBootstrap;
  }
}

window.embeddedservice_bootstrap ??= createEmbeddedServiceBootstrap(window);
