import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The tabwarden package's own folder, found from this file (src/server/package-files.ts in the
 * repository, dist/server/package-files.js once installed: two levels down either way), so an
 * installed server and `startTestServer()` serve the package's files whatever the working folder.
 * (Not `new URL('../../', import.meta.url)`: Vite, and so Vitest in a jsdom or happy-dom test,
 * rewrites that pattern into an http:// asset URL.)
 */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The demo portal, served at `/` by default. */
export const PACKAGE_PUBLIC_DIR = join(PACKAGE_ROOT, 'public');

/** The built page and worker bundles (`npm run build`), served at `/bundles/` by default. */
export const PACKAGE_BUNDLES_DIR = join(PACKAGE_ROOT, 'dist', 'bundles');
