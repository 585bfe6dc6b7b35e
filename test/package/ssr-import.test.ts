// @vitest-environment node
// Server-side rendering and Node test environments import the page part without a browser: the
// import must do nothing and throw nothing until the page uses it. Needs `npm run build` for the
// built package (npm test builds first).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

it('SSR: importing the page part under Node throws nothing and touches no global', async () => {
  const globalsBefore = Object.keys(globalThis).sort();
  const page = await import('../../src/page/index.ts');
  expect(typeof page.createTabwarden).toBe('function');
  expect(Object.keys(globalThis).sort()).toEqual(globalsBefore);
});

it("SSR: `import 'tabwarden'`, `'tabwarden/page'` and `'tabwarden/ui'` of the built package work in plain Node", () => {
  // Node itself, not Vitest's module runner: the path a server-side renderer takes. The package
  // refers to itself by name from its own folder.
  const script = `
    const before = Object.keys(globalThis).length;
    const root = await import('tabwarden');
    const page = await import('tabwarden/page');
    const ui = await import('tabwarden/ui');
    if (root.createTabwarden !== page.createTabwarden) throw new Error('two copies');
    if (typeof ui.mountTabwardenUI !== 'function') throw new Error('no UI');
    if (Object.keys(globalThis).length !== before) throw new Error('a global changed');
    console.log(typeof page.createTabwarden, typeof page.TabwardenError);`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: packageRoot,
    encoding: 'utf8',
  });
  expect(result.stderr).toBe('');
  expect(result.stdout.trim()).toBe('function function');
});
