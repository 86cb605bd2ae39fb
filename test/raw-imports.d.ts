// Vite's `?raw` imports: a file's text (test/security.test.ts reads the auth module's source).
declare module "*?raw" {
  const text: string;
  export default text;
}
