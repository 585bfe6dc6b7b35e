// `npm run bench` lands with issue #5 (benchmarks need the browser build of issue #4).
console.log('tabwarden bench: not yet — the benchmark suite arrives with the browser build.');
