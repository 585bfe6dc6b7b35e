import { defineConfig } from 'vite';
import { tabwarden } from 'tabwarden/vite';

// tabwarden() serves the worker files in `vite dev` and emits them at the root of the build.
export default defineConfig({ plugins: [tabwarden()] });
