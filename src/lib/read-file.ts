/**
 * Reading a file whose path the user gave (a configure or credentials file, a kubeconfig, a CA
 * bundle) without ever blocking the process: a regular file is read whole, as `readFile` reads it;
 * a FIFO (`<(…)` process substitution, `mkfifo`) or a character device (`/dev/null`) is read as a
 * stream, waiting on the event loop (never in a blocked thread), bounded in size and time, and
 * stoppable; a socket or a block device is refused in one line naming the file and what it is.
 */
import type { Stats } from "node:fs";
import type { Socket } from "node:net";
import { builtin } from "./builtin.js";
import { FileError } from "./errors.js";

// Not `import`: `broker token` reads its credentials file through here on every kubectl call (builtin.ts says why).
const { close, constants, fstat, open, read, readFile } = builtin("node:fs");
const { stat: statPath } = builtin("node:fs/promises");
const { promisify } = builtin("node:util");

const openFd = promisify(open);
const fstatFd = promisify(fstat);
const readFd = promisify(read);
const readWhole = promisify(readFile);

/**
 * The kind of a file system node, in words, for messages.
 *
 * @example
 * ```ts
 * fileKind(await stat("/dev/null")); // "character device"
 * ```
 */
export function fileKind(info: Stats): string {
  if (info.isFile()) return "regular file";
  if (info.isDirectory()) return "directory";
  if (info.isCharacterDevice()) return "character device";
  if (info.isBlockDevice()) return "block device";
  if (info.isFIFO()) return "FIFO";
  if (info.isSocket()) return "socket";
  return "special file";
}

/** The most a FIFO or device may give before it is refused: a kubeconfig of thousands of clusters is a few MiB. */
export const MAX_STREAM_FILE_BYTES = 16 * 1024 * 1024;
/** How long a FIFO or device may take to give its whole content (its writer may ask for a passphrase first). */
export const DEFAULT_STREAM_FILE_WAIT_MS = 60_000;

/** Options of {@link readUserFile}. */
export interface ReadUserFileOptions {
  /** What the file is, for messages (`credential file`, `kubeconfig`); `file` by default. */
  what?: string;
  /** Stops waiting on a FIFO or device (Ctrl-C). */
  signal?: AbortSignal;
  /** The most a FIFO or device may give; {@link MAX_STREAM_FILE_BYTES} by default. */
  maxBytes?: number;
  /** How long a FIFO or device may take to reach its end; {@link DEFAULT_STREAM_FILE_WAIT_MS} by default. */
  waitMs?: number;
  /**
   * Refuse a FIFO, before reading it, with this fix in the message: for a file that another reader
   * (a library) opens again after us, and would find empty or wait on forever.
   */
  refuseFifo?: string;
}

/** A file as read by {@link readUserFile}. */
export interface UserFile {
  /** The content, decoded as UTF-8. */
  text: string;
  /** The file's mode bits (type and permissions), as `stat` gives them, for a caller's permission warning. */
  mode: number;
  /** The kind of node the text came from. */
  kind: "regular file" | "FIFO" | "character device";
  /**
   * A regular file's identity and version as read (see {@link fileStamp}), taken through the
   * descriptor before the read: a later `fileStamp` of the path that equals it means the file was not
   * replaced or written since. Absent for a FIFO or a device, which can never be taken as unchanged.
   */
  stamp?: string;
}

/**
 * A file's identity and version in one string: device, inode, size, mtime and ctime (a write or a
 * rename onto the path changes at least one of them; ctime cannot be set back by `utimes`).
 *
 * @example
 * ```ts
 * const unchanged = fileStamp(await stat(path)) === file.stamp;
 * ```
 */
export function fileStamp(info: Stats): string {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
}

/**
 * Reads the file at `path`. The file system's own errors (`ENOENT`, `EACCES`, `EISDIR` for a
 * directory, …) are thrown unchanged, with their `code`, for the caller to word in its domain; a
 * socket or block device, a FIFO or device that gives more than `maxBytes` or no end within
 * `waitMs`, and an abort are thrown as {@link FileError} naming the path.
 *
 * The file is opened without blocking and looked at again through the opened descriptor, so a
 * path swapped for a FIFO after the first look cannot hang the process: a blocking `open` or `read`
 * in Node's thread pool would keep even `process.exit` from returning.
 *
 * @example
 * ```ts
 * const { text } = await readUserFile("/dev/fd/63", { what: "credential file" }); // <(pass show ncloud)
 * ```
 */
export async function readUserFile(path: string, options: ReadUserFileOptions = {}): Promise<UserFile> {
  const what = options.what ?? "file";
  // Looked at before it is opened: opening a block device can have effects of its own (a loop
  // device created on demand, a disk spun up), and a socket cannot be opened at all.
  const before = await statPath(path);
  if (before.isBlockDevice() || before.isSocket()) throw notAFile(path, what, before);
  let fd: number;
  try {
    fd = await openFd(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (cause) {
    // A socket, or a device node with no driver behind it, cannot be opened: say what it is rather than "ENXIO".
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENXIO" || code === "ENODEV") throw notAFile(path, what, await statPath(path).catch(() => undefined), cause);
    throw cause;
  }
  let owned = true; // the stream reader below takes the descriptor over
  try {
    const info = await fstatFd(fd);
    if (info.isDirectory()) {
      // read(2) gives the file system's own EISDIR, for the caller to word ("pass the file itself").
      await readFd(fd, Buffer.alloc(1), 0, 1, null);
    }
    if (info.isFile()) return { text: await readWhole(fd, "utf8"), mode: info.mode, kind: "regular file", stamp: fileStamp(info) };
    // A block device is a disk, never a configuration file (here if one was swapped in after the look).
    if (!info.isFIFO() && !info.isCharacterDevice()) throw notAFile(path, what, info);
    if (info.isFIFO() && options.refuseFifo !== undefined) {
      throw new FileError(path, "kind", `${what} ${path} is a FIFO: ${options.refuseFifo}`);
    }
    const limits = { what, path, maxBytes: options.maxBytes ?? MAX_STREAM_FILE_BYTES, waitMs: options.waitMs ?? DEFAULT_STREAM_FILE_WAIT_MS, signal: options.signal };
    if (info.isFIFO()) {
      // node:net (the pipe handle) loads for a FIFO only, not on every start-up that reads a file:
      // `kubeiam token` reads its configure file through here.
      const { Socket: PipeSocket } = await import("node:net");
      owned = false;
      return { text: await readFifo(PipeSocket, fd, limits), mode: info.mode, kind: "FIFO" };
    }
    return { text: await readDevice(fd, info, limits), mode: info.mode, kind: "character device" };
  } finally {
    if (owned) await new Promise<void>((r) => close(fd, () => r()));
  }
}

/** One line naming the file and what it is; a character device that cannot be opened has no driver behind it. */
function notAFile(path: string, what: string, info: Stats | undefined, cause?: unknown): FileError {
  const kind = info === undefined ? "special file" : fileKind(info);
  const tail = kind === "character device" ? " with no device behind it" : ", not a file";
  return new FileError(path, "kind", `${what} ${path} is a ${kind}${tail}: pass the file itself`, cause === undefined ? undefined : { cause });
}

interface StreamLimits {
  what: string;
  path: string;
  maxBytes: number;
  waitMs: number;
  signal: AbortSignal | undefined;
}

function tooBig(l: StreamLimits, kind: string): FileError {
  return new FileError(l.path, "kind", `${l.what} ${l.path} (a ${kind}) gives more than ${Math.round(l.maxBytes / 1024 / 1024)} MiB: pass a regular file`);
}

function tooSlow(l: StreamLimits, kind: string): FileError {
  const tail = kind === "FIFO" ? "start the program that writes it, or pass a regular file" : "pass a regular file";
  return new FileError(l.path, "kind", `${l.what} ${l.path} is a ${kind} that did not reach its end within ${Math.round(l.waitMs / 1000)} s: ${tail}`);
}

function stopped(l: StreamLimits): FileError {
  return new FileError(l.path, "io", `stopped while reading ${l.what} ${l.path}`, { cause: l.signal?.reason });
}

/**
 * A FIFO through the event loop (libuv's pipe handle, epoll underneath): it waits for a writer as
 * `cat` would, and ends when the last writer closes. A FIFO opened without blocking and polled with
 * `read` could not tell "no writer yet" from "end of file"; epoll reports neither until a writer has come.
 */
function readFifo(PipeSocket: typeof Socket, fd: number, l: StreamLimits): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new PipeSocket({ fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: Error | undefined): void => {
      clearTimeout(timer);
      l.signal?.removeEventListener("abort", onAbort);
      socket.destroy(); // closes the descriptor
      if (error === undefined) resolve(Buffer.concat(chunks).toString("utf8"));
      else reject(error);
    };
    const onAbort = (): void => finish(stopped(l));
    const timer = setTimeout(() => finish(tooSlow(l, "FIFO")), l.waitMs);
    if (l.signal?.aborted) return finish(stopped(l));
    l.signal?.addEventListener("abort", onAbort, { once: true });
    socket.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > l.maxBytes) return finish(tooBig(l, "FIFO"));
      chunks.push(chunk);
    });
    socket.on("end", () => finish(undefined));
    socket.on("error", (cause: Error) => finish(new FileError(l.path, "io", `cannot read ${l.what} ${l.path} (${(cause as NodeJS.ErrnoException).code ?? "error"})`, { cause })));
  });
}

/**
 * A character device, polled: opened without blocking, a read returns at once (data, end of file,
 * or EAGAIN while a terminal has nothing to give), so no thread is ever stuck in it.
 */
async function readDevice(fd: number, info: Stats, l: StreamLimits): Promise<string> {
  const deadline = Date.now() + l.waitMs;
  const chunks: Buffer[] = [];
  let size = 0;
  const buffer = Buffer.alloc(64 * 1024);
  for (;;) {
    if (l.signal?.aborted) throw stopped(l);
    let n: number;
    try {
      n = (await readFd(fd, buffer, 0, buffer.length, null)).bytesRead;
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== "EAGAIN") {
        throw new FileError(l.path, "io", `cannot read the ${fileKind(info)} ${l.path} (${(cause as NodeJS.ErrnoException).code ?? "error"})`, { cause });
      }
      if (Date.now() >= deadline) throw tooSlow(l, fileKind(info));
      await pause(20, l.signal);
      continue;
    }
    if (n === 0) return Buffer.concat(chunks).toString("utf8");
    size += n;
    if (size > l.maxBytes) throw tooBig(l, fileKind(info));
    chunks.push(Buffer.from(buffer.subarray(0, n)));
    if (Date.now() >= deadline) throw tooSlow(l, fileKind(info));
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
