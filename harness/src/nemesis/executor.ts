/** Runs a fault schedule against a deployment in real time, undoing each fault after its duration. */
import type { Deployment } from '../drivers/driver.js';
import type { HistoryWriter } from '../history/writer.js';
import { delay, scaled } from '../support/time.js';
import { applyFault, FaultNotApplicable, type ScheduledFault } from './faults.js';

export interface ExecutorResult {
  applied: number;
  errors: string[];
  /** "#n fault target: why" for faults whose symbolic target matched nothing when due (e.g. no master mid-failover): the system's state, not a harness error. */
  skipped: string[];
}

/** A symbolic target that matches no instance at the moment its fault fires. */
export class NoTargetError extends Error {}

/** Turns a symbolic target (e.g. '@master') into instance names at the moment a fault fires. */
export type TargetResolver = (symbol: string) => string[];

export class NemesisExecutor {
  private pendingUndo: (() => Promise<void>)[] = [];
  resolve?: TargetResolver;

  constructor(
    private readonly dep: Deployment,
    private readonly history: HistoryWriter,
  ) {}

  private resolved(f: ScheduledFault): ScheduledFault {
    if (!f.targets.some((t) => t.startsWith('@'))) return f;
    const targets = f.targets.flatMap((t) => {
      if (!t.startsWith('@')) return [t];
      const r = this.resolve?.(t) ?? [];
      if (r.length === 0) throw new NoTargetError(`no instance matches ${t} right now`);
      return r;
    });
    return { ...f, targets };
  }

  /** Applies one fault now (symbolic targets resolved first); its undo is kept for healAll(). */
  async apply(fault: ScheduledFault): Promise<() => Promise<void>> {
    const f = this.resolved(fault);
    const undo = await applyFault(this.dep, this.history, f);
    this.pendingUndo.push(undo);
    return async () => {
      await undo();
      this.pendingUndo = this.pendingUndo.filter((u) => u !== undo);
    };
  }

  /** Runs the whole schedule (offsets from now, scaled); a fault that cannot be applied is recorded and skipped. */
  async run(schedule: ScheduledFault[], signal?: AbortSignal): Promise<ExecutorResult> {
    const start = performance.now();
    const res: ExecutorResult = { applied: 0, errors: [], skipped: [] };
    for (const [i, f] of schedule.entries()) {
      const wait = start + scaled(f.at) - performance.now();
      if (wait > 0) await delay(wait, signal);
      if (signal?.aborted) break;
      try {
        const undo = await this.apply(f);
        res.applied++;
        if (f.duration > 0) {
          await delay(scaled(f.duration), signal);
          await undo();
        }
      } catch (e) {
        const msg = `${f.fault} ${f.targets.join(',')}: ${e instanceof Error ? e.message : String(e)}`;
        if (e instanceof NoTargetError || e instanceof FaultNotApplicable) {
          // Numbered (1-based, in schedule order) so a reader and the suites can tell which fault it was.
          res.skipped.push(`#${i + 1} ${msg}`);
          this.history.mark('fault-skipped', msg);
        } else {
          res.errors.push(msg);
          this.history.mark('fault-error', msg);
        }
      }
    }
    return res;
  }

  /** Undoes every fault still in effect (teardown and the 'heal' step of scenarios). */
  async healAll(): Promise<void> {
    const undos = this.pendingUndo.reverse();
    this.pendingUndo = [];
    for (const u of undos) {
      try {
        await u();
      } catch {
        // Teardown goes on; the deployment's down() stops whatever is left.
      }
    }
  }
}
