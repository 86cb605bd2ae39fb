// What a `.wasm` import is under Wrangler and the Workers Vitest pool: a compiled module.
// tsconfig.json points every `@jsquash/*.wasm` import here (some ship wasm-bindgen typings instead).
declare const module: WebAssembly.Module;
export default module;
