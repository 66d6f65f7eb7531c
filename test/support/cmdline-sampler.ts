/**
 * Watches the command lines (and the environments of exec'd children) of a run's processes while it is
 * going, by reading /proc: a token on a command line is visible to every user of the machine (`ps`), and
 * the only way to see it is to look while the process lives.
 *
 * One scanner serves every sampler in the worker (runs may be concurrent): every few milliseconds it lists
 * /proc, learns each new pid's parent once (from /proc/<pid>/stat), and each sampler then reads the command
 * lines of its own processes: the roots it was given (the step's node process, via runAction's onSpawn)
 * and everything descending from them. /proc/<pid>/task/<tid>/children is not used on purpose: kernels
 * built without CONFIG_PROC_CHILDREN (like this test VM's) do not have it.
 *
 * A process that starts and exits between two scans is missed; the docker CLI lives for tens of
 * milliseconds per login, several scans long, and the leak suite asserts it was caught (so the check can
 * fail). Linux only.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** One process seen during a run. */
export interface SampledProcess {
  pid: number;
  ppid: number;
  /** Every distinct command line seen (argv joined by spaces): a forked child shows its parent's until exec. */
  cmdlines: string[];
  /** Environments (NAME=value lines) of the process after it exec'd; never the root's (see readEnviron). */
  environs: string[];
  /** True for a pid given to addRoot (the step's own process). */
  root: boolean;
}

export interface ProcessSampler {
  /** Starts watching `pid` and its descendants (call it from runAction's onSpawn). */
  addRoot(pid: number): void;
  /** The processes seen so far. */
  processes(): SampledProcess[];
  /** Scans a last time, stops watching and answers everything seen. */
  stop(): SampledProcess[];
}

const DEFAULT_INTERVAL_MS = 5;

/** pid -> ppid for every live pid seen by the shared scanner. */
const parents = new Map<number, number>();
const samplers = new Set<Sampler>();
let timer: NodeJS.Timeout | undefined;

function readText(path: string, encoding: BufferEncoding = 'utf8'): string | undefined {
  try {
    return readFileSync(path, encoding);
  } catch {
    return undefined; // the process is gone, or not ours to read
  }
}

/** The ppid field of /proc/<pid>/stat; the command name before it is in parentheses and may hold spaces. */
function readPpid(pid: number): number | undefined {
  const stat = readText(`/proc/${pid}/stat`, 'latin1');
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

function readCmdline(pid: number): string | undefined {
  const raw = readText(`/proc/${pid}/cmdline`);
  if (raw === undefined || raw === '') return undefined; // gone, a zombie or a kernel thread
  return raw.replace(/\0+$/, '').split('\0').join(' ');
}

function scan(): void {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return;
  }
  const live = new Set<number>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    live.add(pid);
    if (!parents.has(pid)) {
      const ppid = readPpid(pid);
      if (ppid !== undefined) parents.set(pid, ppid);
    }
  }
  for (const pid of parents.keys()) if (!live.has(pid)) parents.delete(pid);
  for (const sampler of samplers) sampler.observe(live);
}

function ensureScanning(intervalMs: number): void {
  if (timer) return;
  timer = setInterval(scan, intervalMs);
}

function stopScanningIfIdle(): void {
  if (samplers.size > 0 || !timer) return;
  clearInterval(timer);
  timer = undefined;
}

class Sampler implements ProcessSampler {
  readonly #seen = new Map<number, SampledProcess>();
  #stopped = false;

  addRoot(pid: number): void {
    if (this.#stopped) return;
    parents.set(pid, readPpid(pid) ?? 0);
    this.#record(pid, parents.get(pid) ?? 0, true);
    this.observe(new Set([pid]));
  }

  processes(): SampledProcess[] {
    return [...this.#seen.values()].map((p) => ({
      ...p,
      cmdlines: [...p.cmdlines],
      environs: [...p.environs],
    }));
  }

  stop(): SampledProcess[] {
    if (!this.#stopped) {
      scan();
      this.#stopped = true;
      samplers.delete(this);
      stopScanningIfIdle();
    }
    return this.processes();
  }

  /** Adopts new descendants of known processes, then reads the command line of every live one. */
  observe(live: Set<number>): void {
    for (let adopted = true; adopted; ) {
      adopted = false;
      for (const [pid, ppid] of parents) {
        if (!this.#seen.has(pid) && this.#seen.has(ppid)) {
          this.#record(pid, ppid, false);
          adopted = true;
        }
      }
    }
    for (const seen of this.#seen.values()) {
      if (!live.has(seen.pid)) continue;
      const cmdline = readCmdline(seen.pid);
      if (cmdline === undefined) continue;
      if (!seen.cmdlines.includes(cmdline)) seen.cmdlines.push(cmdline);
      if (!seen.root) this.#readEnviron(seen, cmdline);
    }
  }

  #record(pid: number, ppid: number, root: boolean): void {
    const known = this.#seen.get(pid);
    if (known) {
      known.root ||= root;
      return;
    }
    this.#seen.set(pid, { pid, ppid, cmdlines: [], environs: [], root });
  }

  /**
   * A child's environment, once it has exec'd. Before exec a forked child still shows its parent's command
   * line and initial environment (the step's node process legitimately holds INPUT_TOKEN, put there by the
   * runner), so a child whose command line is still its parent's is skipped; the command line is read again
   * afterwards, and the environment kept only if no exec happened in between.
   */
  #readEnviron(child: SampledProcess, cmdline: string): void {
    const parent = this.#seen.get(child.ppid);
    if (parent?.cmdlines.includes(cmdline)) return;
    const environ = readText(`/proc/${child.pid}/environ`);
    if (environ === undefined || readCmdline(child.pid) !== cmdline) return;
    const text = environ.replace(/\0+$/, '').split('\0').join('\n');
    if (!child.environs.includes(text)) child.environs.push(text);
  }
}

/** Starts a sampler; give it the run's root pids with addRoot, and stop() it when the run is over. */
export function startProcessSampler(options: { intervalMs?: number } = {}): ProcessSampler {
  const sampler = new Sampler();
  samplers.add(sampler);
  ensureScanning(options.intervalMs ?? DEFAULT_INTERVAL_MS);
  return sampler;
}

/** The processes whose command line ran `docker <subcommand>` (e.g. 'login'), to prove the sampler saw them. */
export function dockerProcesses(processes: SampledProcess[], subcommand: string): SampledProcess[] {
  const pattern = new RegExp(`(^|/)docker ${subcommand}\\b`);
  return processes.filter((p) => p.cmdlines.some((cmdline) => pattern.test(cmdline)));
}
