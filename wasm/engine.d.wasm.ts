// Wrangler and the Workers Vitest pool import a `.wasm` file as a compiled module.
declare const engine: WebAssembly.Module;
export default engine;
