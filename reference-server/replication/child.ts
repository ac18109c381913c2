/**
 * What Redis forks for BGSAVE: a save of the dataset as of its start, running while the server keeps serving.
 * A JS server cannot fork, so the snapshot is captured at start and encoded a piece per event-loop turn, paced by
 * rdb-key-save-delay (microseconds per key, read once at start as a forked child would) so tests can hold it open.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { RdbEncoder } from '../persistence/codec.js';

/** Bytes encoded per turn when nothing paces the save (a few ms of work). */
const PIECE = 256 * 1024;

export type ChildTarget = 'disk' | 'socket';

export class SaveChild {
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly delayUs: number;
  /** Set when the consumer asks to wait (a socket's buffer is full): the next piece waits for resume(). */
  private waiting = false;
  /**
   * A real process standing for the fork child while the save runs, so tools that look for the server's child
   * (pgrep -P, as Redis's test suite does) find one: killing it fails the save, and it exits when we die (its
   * stdin closes), as a Redis child notices its parent is gone.
   */
  private proc: ChildProcess | null = null;

  constructor(
    readonly target: ChildTarget,
    private readonly enc: RdbEncoder,
    delayUs: number,
    /** Takes each piece; returns false to stop until resume() is called. */
    private readonly out: (piece: Buffer) => boolean,
    private readonly done: (ok: boolean) => void,
  ) {
    // A negative delay sleeps 1 us once every -delay keys in Redis: nothing worth pacing here.
    this.delayUs = delayUs > 0 ? delayUs : 0;
    try {
      const proc = spawn('/bin/sh', ['-c', 'read _ || true'], { stdio: ['pipe', 'ignore', 'ignore'] });
      proc.on('error', () => { this.proc = null; });
      proc.stdin?.on('error', () => undefined);
      proc.on('exit', (_code, signal) => {
        if (this.proc !== proc) return;
        this.proc = null;
        if (this.stopped) return;
        // The "child" was killed from outside (the OOM killer, kill -9): the save fails as Redis's would.
        this.stopped = true;
        if (this.timer) clearTimeout(this.timer);
        this.signal = signal ?? 'exit';
        this.done(false);
      });
      this.proc = proc;
    } catch {
      this.proc = null;
    }
    setImmediate(() => this.step());
  }

  /** The signal that ended the stand-in process from outside, if that is how the save ended. */
  signal: string | null = null;

  /** Stops the stand-in process once the save is over. */
  private release(): void {
    const proc = this.proc;
    this.proc = null;
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }

  /** The stand-in process's pid (what Redis logs as the child's), or ours when it could not start. */
  get pid(): number {
    return this.proc?.pid ?? process.pid;
  }

  /** True while the piece being handed out is the last one (the encoder wrote its EOF and checksum). */
  finishing = false;

  get running(): boolean {
    return !this.stopped;
  }

  /** Seconds since the save started (rdb_current_bgsave_time_sec). */
  get seconds(): number {
    return Math.floor((Date.now() - this.started) / 1000);
  }

  get keysWritten(): number {
    return this.enc.keysWritten;
  }

  /** Kills the save (killRDBChild): no more pieces, done(false) is not called. */
  kill(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.release();
  }

  /** The consumer can take pieces again. */
  resume(): void {
    if (!this.waiting || this.stopped) return;
    this.waiting = false;
    setImmediate(() => this.step());
  }

  private step(): void {
    this.timer = null;
    if (this.stopped) return;
    let maxKeys = Infinity;
    if (this.delayUs > 0) {
      // As a child sleeping after each key: key n is done n * delay after the start.
      const elapsedUs = (Date.now() - this.started) * 1000;
      maxKeys = Math.floor(elapsedUs / this.delayUs) + 1 - this.enc.keysWritten;
      if (maxKeys <= 0) {
        const dueMs = ((this.enc.keysWritten * this.delayUs) - elapsedUs) / 1000;
        this.timer = setTimeout(() => this.step(), Math.max(1, Math.ceil(dueMs)));
        return;
      }
    }
    let piece: Buffer | null;
    try {
      piece = this.enc.next(PIECE, maxKeys);
    } catch {
      this.stopped = true;
      this.release();
      this.done(false);
      return;
    }
    if (piece === null) {
      this.stopped = true;
      this.release();
      this.done(true);
      return;
    }
    this.finishing = this.enc.finished;
    if (piece.length > 0 && !this.out(piece)) {
      this.waiting = true;
      return;
    }
    if (this.stopped) return;
    setImmediate(() => this.step());
  }
}
