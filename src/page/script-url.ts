import type { TrustedScriptURL } from 'trusted-types/lib';

interface ScriptUrlPolicy {
  createScriptURL(url: string): TrustedScriptURL;
}
interface TrustedTypesFactory {
  createPolicy(name: string, rules: { createScriptURL(url: string): string }): ScriptUrlPolicy;
}

let policy: ScriptUrlPolicy | undefined;

/**
 * A worker script's URL, checked to be of this page's origin (tabwarden never runs a foreign
 * script as its worker), and wrapped as a `TrustedScriptURL` where the page enforces Trusted
 * Types (`require-trusted-types-for 'script'`; allow the policy name `tabwarden`).
 */
export function scriptUrl(url: string): string {
  const absolute = new URL(url, location.href);
  if (absolute.origin !== location.origin) {
    throw new TypeError(`tabwarden loads its workers from ${location.origin} only, not ${absolute.origin}`);
  }
  const factory = (globalThis as { trustedTypes?: TrustedTypesFactory }).trustedTypes;
  policy ??= factory?.createPolicy('tabwarden', { createScriptURL: (checked) => checked });
  // A TrustedScriptURL stands wherever the platform takes a script URL string.
  return (policy?.createScriptURL(absolute.href) as unknown as string | undefined) ?? absolute.href;
}
