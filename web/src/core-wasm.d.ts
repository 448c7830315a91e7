// Types of `microvet/core.wasm`: the component's core module, for bundlers that give a file's
// URL for an import (esbuild's `file` loader, Vite's `?url`): `load({ wasmUrl })`.

/** The URL of `microvet.core.wasm` in the bundle's output. */
declare const wasmUrl: string;
export default wasmUrl;
