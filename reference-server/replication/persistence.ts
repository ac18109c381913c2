/** RDB persistence: SAVE/BGSAVE to dir/dbfilename, save points, loading at start, INFO persistence. */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { PersistenceHooks } from '../commands/command.js';
import type { RedisServer } from '../server/server.js';
import { buildRdb, captureSnapshot, loadIntoServer, loadIntoServerPaced } from '../persistence/snapshot.js';
import type { RdbEncoder } from '../persistence/codec.js';
import { SaveChild } from './child.js';
import { constants } from 'node:os';

function signalNumber(name: string): number | string {
  return (constants.signals as Record<string, number>)[name] ?? name;
}

export class Persistence implements PersistenceHooks {
  lastSaveTime = Math.floor(Date.now() / 1000);
  lastSaveMs = Date.now();
  lastBgsaveOk = true;
  lastBgsaveSec = -1;
  saves = 0;
  bgsaveScheduled = false;
  /** The background save running (Redis's RDB child), if any; at most one at a time. */
  child: SaveChild | null = null;
  /** The running child was started for replicas (a disk one they wait for), not by BGSAVE or a save point. */
  childForReplication = false;
  loadedKeys = 0;
  loadedExpired = 0;
  /**
   * A replica loading its master's payload, or the start-up load, into memory (INFO loading:1, -LOADING to commands
   * without the flag); async (repl-diskless-load swapdb): the old data stays served meanwhile, INFO says
   * async_loading:1 and only commands flagged no_async_loading are refused, as Redis 7.0's async loading does.
   */
  loading: { start: number; total: number; loaded: () => number; async: boolean } | null = null;
  /** The start-up load paced by key-load-delay, until it ends; start-up logs Ready after it. */
  startupLoad: Promise<void> | null = null;
  /** Set by a replica's sync, read by nobody else: the aux fields of the last loaded file. */
  lastAux = new Map<string, string>();

  constructor(readonly server: RedisServer) {}

  path(): string {
    const cfg = this.server.config;
    return join(cfg.get('dir') || process.cwd(), cfg.get('dbfilename') || 'dump.rdb');
  }

  /** writeCommandsDeniedByDiskError: stop-writes-on-bgsave-error with save points configured and the last BGSAVE failed. */
  writesDeniedBy(): string | undefined {
    if (this.lastBgsaveOk) return undefined;
    const cfg = this.server.config;
    if (!cfg.getBool('stop-writes-on-bgsave-error') || (cfg.get('save') ?? '').trim() === '') return undefined;
    return "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
  }

  get bgsaveInProgress(): boolean {
    return this.child !== null;
  }

  infoLines(): string[] {
    const s = this.server;
    const child = this.child;
    const ld = this.loading;
    const loadingLines: string[] = [];
    if (ld) {
      const done = ld.loaded();
      const elapsed = Math.floor((Date.now() - ld.start) / 1000);
      const left = ld.total > 0 ? ld.total - done : 1;
      loadingLines.push(`loading_start_time:${Math.floor(ld.start / 1000)}`, `loading_total_bytes:${ld.total}`,
        'loading_rdb_used_mem:0', `loading_loaded_bytes:${done}`,
        `loading_loaded_perc:${(ld.total > 0 ? (done * 100) / ld.total : 0).toFixed(2)}`,
        `loading_eta_seconds:${elapsed === 0 ? 1 : Math.floor((elapsed * left) / (done + 1))}`);
    }
    return [
      `loading:${ld && !ld.async ? 1 : 0}`, `async_loading:${ld?.async ? 1 : 0}`, 'current_cow_peak:0', 'current_cow_size:0', 'current_cow_size_age:0',
      'current_fork_perc:0.00', `current_save_keys_processed:${child ? child.keysWritten : 0}`, 'current_save_keys_total:0',
      `rdb_changes_since_last_save:${s.stats.dirty ?? 0}`, `rdb_bgsave_in_progress:${this.bgsaveInProgress ? 1 : 0}`,
      `rdb_last_save_time:${this.lastSaveTime}`, `rdb_last_bgsave_status:${this.lastBgsaveOk ? 'ok' : 'err'}`,
      `rdb_last_bgsave_time_sec:${this.lastBgsaveSec}`, `rdb_current_bgsave_time_sec:${child ? child.seconds : -1}`, `rdb_saves:${this.saves}`,
      'rdb_last_cow_size:0', `rdb_last_load_keys_expired:${this.loadedExpired}`, `rdb_last_load_keys_loaded:${this.loadedKeys}`,
      `aof_enabled:${s.config.getBool('appendonly') ? 1 : 0}`, 'aof_rewrite_in_progress:0', 'aof_rewrite_scheduled:0',
      'aof_last_rewrite_time_sec:-1', 'aof_current_rewrite_time_sec:-1', 'aof_last_bgrewrite_status:ok', 'aof_rewrites:0',
      'aof_rewrites_consecutive_failures:0', 'aof_last_write_status:ok', 'aof_last_cow_size:0', 'module_fork_in_progress:0',
      'module_fork_last_cow_size:0',
      ...loadingLines,
    ];
  }

  lastSave(): number {
    return this.lastSaveTime;
  }

  /** Writes a temp file, fsyncs and renames it over dbfilename, as rdbSave does. */
  save(): void {
    this.writeFile(buildRdb(this.server, this.replInfo()), Date.now());
    this.server.stats.dirty = 0;
    this.server.log('notice', 'DB saved on disk');
  }

  /** What an RDB saved now records about replication, when replication is installed. */
  private replInfo(): { replid: string; offset: number; streamDb: number } | undefined {
    const repl = this.server.replication as { saveInfo?: () => { replid: string; offset: number; streamDb: number } };
    return typeof repl.saveInfo === 'function' ? repl.saveInfo() : undefined;
  }

  private writeFile(rdb: Buffer, start: number): void {
    const target = this.path();
    const tmp = join(this.server.config.get('dir') || process.cwd(), `temp-${process.pid}.rdb`);
    try {
      const fd = openSync(tmp, 'w');
      try {
        let off = 0;
        while (off < rdb.length) off += writeSync(fd, rdb, off, rdb.length - off);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, target);
    } catch (e) {
      this.server.log('warning', `Failed opening the temp RDB file ${tmp} (in server root dir ${process.cwd()}) for saving: ${(e as Error).message}`);
      this.lastBgsaveOk = false;
      throw e;
    }
    this.lastSaveTime = Math.floor(Date.now() / 1000);
    this.lastSaveMs = Date.now();
    this.lastBgsaveSec = Math.round((Date.now() - start) / 1000);
    this.lastBgsaveOk = true;
    this.saves++;
  }

  /** BGSAVE (and save points): a disk child; changes made while it runs stay counted as unsaved. */
  bgsave(): void {
    this.diskChild(false);
  }

  /**
   * Starts a child saving the dataset as of now to dir/dbfilename; `done` gets the file's bytes (replicas waiting
   * for a disk BGSAVE are sent them). The snapshot records the replication id and offset of this moment.
   */
  diskChild(forReplication: boolean, done?: (rdb: Buffer | null) => void, info = this.replInfo()): void {
    const start = Date.now();
    const dirtyAtStart = this.server.stats.dirty ?? 0;
    const parts: Buffer[] = [];
    this.childForReplication = forReplication;
    const child = new SaveChild('disk', captureSnapshot(this.server, info), this.server.config.getNumber('rdb-key-save-delay'),
      (piece) => { parts.push(piece); return true; },
      (ok) => {
        if (this.child !== child) return;
        this.child = null;
        let rdb: Buffer | null = null;
        if (ok) {
          try {
            rdb = Buffer.concat(parts);
            this.writeFile(rdb, start);
            this.server.log('notice', 'DB saved on disk');
            this.server.stats.dirty = Math.max(0, (this.server.stats.dirty ?? 0) - dirtyAtStart);
            this.server.log('notice', 'Background saving terminated with success');
          } catch {
            rdb = null;
          }
        }
        if (rdb === null) {
          this.lastBgsaveOk = false;
          if (child.signal) this.server.log('warning', `Background saving terminated by signal ${signalNumber(child.signal)}`);
          else this.server.log('warning', 'Background saving error');
        }
        done?.(rdb);
      });
    this.child = child;
    this.server.log('notice', `Background saving started by pid ${child.pid}`);
  }

  /** Starts a child streaming the snapshot to replica sockets through `out` (rdbSaveToSlavesSockets). */
  socketChild(enc: RdbEncoder, out: (piece: Buffer) => boolean, done: (ok: boolean) => void): SaveChild {
    this.childForReplication = true;
    const child = new SaveChild('socket', enc, this.server.config.getNumber('rdb-key-save-delay'), out, (ok) => {
      if (this.child !== child) return;
      this.child = null;
      if (!ok) {
        // A failed transfer to replicas is no failed save (backgroundSaveDoneHandlerSocket leaves lastbgsave_status).
        this.server.log('warning', child.signal ? `Background transfer terminated by signal ${signalNumber(child.signal)}` : 'Background transfer error');
      }
      done(ok);
    });
    this.child = child;
    this.server.log('notice', `Background RDB transfer started by pid ${child.pid}`);
    return child;
  }

  /** killRDBChild: the save stops, its result is dropped. */
  killChild(): void {
    const child = this.child;
    if (!child) return;
    child.kill();
    this.child = null;
    this.server.log('warning', `Background ${child.target === 'disk' ? 'saving' : 'transfer'} terminated by signal 10`);
    this.childKilled?.();
  }

  /** Replication drops the replicas that waited for a killed save (they reconnect and get the next one). */
  childKilled: (() => void) | null = null;

  /** FLUSHALL kills a running save, as flushAllDataAndResetRDB does: it would write data that no longer exists. */
  flushedAll(): void {
    if (this.child) this.killChild();
  }

  /**
   * Loads dir/dbfilename if it exists (start-up and DEBUG RELOAD); returns false when there is no file. At start-up
   * with key-load-delay set, the keys go in paced while the server serves -LOADING (startupLoad). asReplica: keys
   * already expired are kept (a replica waits for its master's DELs), as rdbLoad does unless iAmMaster().
   */
  load(opts: { startup?: boolean; asReplica?: boolean } = {}): boolean {
    const p = this.path();
    if (!existsSync(p)) return false;
    const start = Date.now();
    const buf = readFileSync(p);
    const asMaster = !opts.asReplica && this.server.replication.role() === 'master';
    const delayUs = this.server.config.getNumber('key-load-delay');
    if (opts.startup && delayUs > 0) return this.loadPaced(buf, asMaster, start);
    const res = loadIntoServer(this.server, buf, asMaster);
    this.loaded(res, start);
    return true;
  }

  /** Start-up with key-load-delay: the server listens and answers -LOADING until every key is in. */
  private loadPaced(buf: Buffer, asMaster: boolean, start: number): boolean {
    const progress = { bytes: 0 };
    const paced = loadIntoServerPaced(this.server, buf, asMaster, () => this.server.config.getNumber('key-load-delay'), progress, () => this.server.shuttingDown);
    this.lastAux = paced.aux;
    this.loading = { start, total: buf.length, loaded: () => progress.bytes, async: false };
    this.startupLoad = paced.done.then((res) => {
      this.loading = null;
      this.startupLoad = null;
      if (!this.server.shuttingDown) this.loaded(res, start);
    });
    return true;
  }

  private loaded(res: { loaded: number; expired: number; aux: Map<string, string> }, start: number): void {
    this.loadedKeys = res.loaded;
    this.loadedExpired = res.expired;
    this.lastAux = res.aux;
    this.server.log('notice', `DB loaded from disk: ${((Date.now() - start) / 1000).toFixed(3)} seconds`);
  }

  /** A shutdown while the dataset loads saves nothing: the partial dataset would overwrite the file (SHUTDOWN_NOSAVE). */
  isLoading(): boolean {
    return this.loading !== null;
  }

  /** DEBUG RELOAD (core calls it unbound after save()): empties the dbs and loads the file back. */
  readonly reload = (): void => {
    for (const db of this.server.dbs) db.flush();
    this.load();
  };

  /** Save points ("save 900 1 300 10"): save when enough changes happened in enough seconds. */
  cron(now: number): void {
    if (this.bgsaveInProgress) return;
    if (this.bgsaveScheduled) {
      this.bgsaveScheduled = false;
      this.bgsave();
      return;
    }
    const spec = (this.server.config.get('save') ?? '').trim();
    if (spec === '') return;
    const parts = spec.split(/\s+/).map(Number);
    const dirty = this.server.stats.dirty ?? 0;
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const secs = parts[i]!, changes = parts[i + 1]!;
      if (dirty >= changes && now - this.lastSaveMs >= secs * 1000) {
        this.server.log('notice', `${changes} changes in ${secs} seconds. Saving...`);
        this.bgsave();
        return;
      }
    }
  }
}
