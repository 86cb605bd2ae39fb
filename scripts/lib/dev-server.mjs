// Runs the Worker in the real Workers runtime (`wrangler dev`, which starts workerd) on a port of its
// own with its own local state, for the benchmark (bench/run.mjs) and the SDK tests (test/sdk/).
import { spawn } from "node:child_process";
import { cpSync, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Copies the Worker (src/, wrangler.toml, tsconfig.json) from `root` into `dir` and returns the path of
 * the copied wrangler.toml. wrangler dev watches the sources and rebuilds and restarts workerd when a
 * file changes; running it on a copy keeps a run on one version of the code (and one workerd process)
 * while src/ is being edited. The copy lives inside the repository, so imports still resolve through
 * its node_modules.
 */
export function snapshotWorker(root, dir) {
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(root, "src"), join(dir, "src"), { recursive: true });
  cpSync(join(root, "wasm", "engine.wasm"), join(dir, "wasm", "engine.wasm"));
  for (const file of ["wrangler.toml", "tsconfig.json"]) cpSync(join(root, file), join(dir, file));
  return join(dir, "wrangler.toml");
}

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `wrangler dev` for the wrangler config `config` on 127.0.0.1:`port` with local state in
 * `stateDir` and the given `vars`, writing its output to `logPath`. Returns at once; await `ready()`
 * before sending requests, and always call `stop()`.
 */
export function spawnDevServer({ cwd, config, port, stateDir, vars, logPath }) {
  const args = ["wrangler", "dev", "--config", config, "--ip", "127.0.0.1", "--port", String(port)];
  args.push("--persist-to", stateDir);
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  // `detached` puts npx, the wrangler node process(es) and workerd in a process group of their own,
  // so stop() can end exactly those processes with one signal to the group. It also means a terminal
  // Ctrl-C does not reach them; the caller handles SIGINT/SIGTERM and calls stop().
  const child = spawn("npx", args, {
    cwd,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  // Both streams feed one file, so neither may end it; it is closed once all output has been read.
  const log = createWriteStream(logPath);
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  child.on("close", () => log.end());

  let exited = false;
  let stopped = false;
  const exit = new Promise((resolve) => child.on("exit", resolve));
  exit.then(() => {
    exited = true;
  });

  const server = {
    pid: child.pid,
    base: `http://127.0.0.1:${port}`,
    /** Ends the whole process group: SIGTERM, then SIGKILL for anything left. Safe to call again. */
    async stop() {
      if (stopped) return;
      if (!exited) {
        signalGroup(child.pid, "SIGTERM");
        const grace = new AbortController();
        const timeout = sleep(5_000, undefined, { signal: grace.signal }).catch(() => {});
        await Promise.race([exit, timeout]);
        grace.abort(); // do not keep this process alive for the rest of the grace period
      }
      // The group leader (npx) can exit before its descendants; workerd must not be left behind.
      signalGroup(child.pid, "SIGKILL");
      // Return once every member has been reaped, so nothing of ours shows up in `ps` afterwards.
      for (let i = 0; i < 100 && signalGroup(child.pid, 0); i++) await sleep(50);
      stopped = true;
    },
    /** Synchronous last resort for process.on("exit"), where nothing can be awaited. */
    killNow() {
      if (!stopped) signalGroup(child.pid, "SIGKILL");
    },
    /** Resolves once the Worker answers HTTP; rejects if wrangler exits or `timeoutMs` passes first. */
    async ready(timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (exited) throw new Error(`wrangler dev exited before it was ready; see ${logPath}`);
        try {
          // Any HTTP answer (even a 404 for this key) means the Worker is up.
          await fetch(`${server.base}/__ready__`, { method: "HEAD" });
          return;
        } catch {
          await sleep(250);
        }
      }
      throw new Error(`wrangler dev did not answer within ${timeoutMs / 1000} s; see ${logPath}`);
    },
  };
  return server;
}

/** Sends `signal` to the process group `pid`; false if the group no longer exists. */
function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (error) {
    if (error.code !== "ESRCH") throw error; // ESRCH: the group is already gone
    return false;
  }
}

function tail(path, lines = 40) {
  if (!existsSync(path)) return "(no log)";
  return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

/**
 * For the Node-side suites (test/sdk, test/browser): runs `wrangler dev` on a snapshot of the
 * Worker under `workDir` (where its log stays for a look after a failure), with the local state
 * in `stateDir` (deleted at the end) and `vars`, and waits until it answers. Returns the server and
 * a teardown; wrangler is never left behind, whatever ends this process (Ctrl-C makes vitest exit
 * without running teardowns).
 */
export async function startDevServerForTests({ root, workDir, stateDir, vars, readyTimeoutMs, label }) {
  mkdirSync(workDir, { recursive: true });
  const logPath = join(workDir, "wrangler.log");
  const server = spawnDevServer({
    cwd: root,
    // A copy of src/: edits made while the tests run do not make wrangler reload halfway.
    config: snapshotWorker(root, join(workDir, "worker")),
    port: await freePort(),
    stateDir,
    vars,
    logPath,
  });
  const killNow = () => {
    server.killNow();
    rmSync(stateDir, { recursive: true, force: true });
  };
  process.once("exit", killNow);
  const teardown = async () => {
    process.off("exit", killNow);
    await server.stop();
    rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    await server.ready(readyTimeoutMs);
  } catch (error) {
    await teardown();
    throw new Error(`${error.message}\nLast lines of ${logPath}:\n${tail(logPath)}`);
  }
  console.log(`${label}: wrangler dev at ${server.base} (log: ${logPath.slice(root.length)})`);
  return { server, teardown };
}
