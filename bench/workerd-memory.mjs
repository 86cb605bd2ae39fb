// Reads the memory of the workerd processes that `wrangler dev` (scripts/lib/dev-server.mjs) starts,
// from Linux /proc.
import { readdirSync, readFileSync } from "node:fs";

/** The workerd processes descending from `rootPid` (Linux /proc), as `{ pid, cmdline }`. */
export function workerdDescendants(rootPid) {
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProc(`/proc/${entry}/stat`);
    if (!stat) continue;
    // The command name in field 2 may contain spaces and parentheses; the ppid follows its last ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(entry));
  }
  const found = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift();
    for (const child of children.get(pid) ?? []) {
      const cmdline = readProc(`/proc/${child}/cmdline`)?.split("\0").join(" ") ?? "";
      if (cmdline.includes("workerd")) found.push({ pid: child, cmdline });
      queue.push(child);
    }
  }
  return found;
}

/**
 * The workerd process that runs the Worker. wrangler dev starts two: a proxy that listens on --port
 * (its `--socket-addr=entry=<ip>:<port>`) and forwards to a second workerd running the Worker itself,
 * which is the one that decodes and resizes.
 */
export function findWorkerRuntime(server) {
  const workerds = workerdDescendants(server.pid);
  if (workerds.length === 1) return { workerd: workerds[0].pid };
  const listening = `entry=${new URL(server.base).host}`;
  const proxies = workerds.filter((w) => w.cmdline.includes(listening));
  const runtimes = workerds.filter((w) => !w.cmdline.includes(listening));
  if (proxies.length !== 1 || runtimes.length !== 1) {
    const found = workerds.map((w) => `  ${w.pid}: ${w.cmdline}`).join("\n") || "  none";
    throw new Error(
      `cannot tell which workerd under wrangler (pid ${server.pid}) runs the Worker:\n${found}`,
    );
  }
  return { workerd: runtimes[0].pid, proxy: proxies[0].pid };
}

/** VmRSS and VmHWM (peak RSS) of `pid` in bytes, from /proc/<pid>/status. */
export function memoryOf(pid) {
  const status = readProc(`/proc/${pid}/status`);
  if (!status) throw new Error(`process ${pid} is gone (did workerd crash or restart? see the wrangler log)`);
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1]) * 1024;
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

function readProc(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined; // the process ended while we were looking
  }
}
