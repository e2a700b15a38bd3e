// `rmsnorm/tfjs/node`: the plug-in plus its Node-only helpers — the tfjs wasm backend loaded from the installed
// package's files (`initTfjsWasm`, `tfjsWasmDistPath`) and `file://` model save/load (`registerFileRouters`,
// `fileSystem`). They use Node built-ins, so they live outside `rmsnorm/tfjs`, which bundles for browsers.
export * from './index.js';
export { fileSystem, registerFileRouters } from './file-io.js';
export { initTfjsWasm, tfjsWasmDistPath } from './wasm-setup.js';
