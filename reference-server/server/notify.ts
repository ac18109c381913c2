/** Keyspace notifications (Redis's notify.c): __keyspace@db__:key and __keyevent@db__:event messages. */
import type { Db } from '../commands/command.js';
import { KeyspaceDb } from '../store/db.js';
import { keyspaceEventsToFlags, NOTIFY_KEYEVENT, NOTIFY_KEYSPACE, NOTIFY_NEW } from '../config/keyspace-events.js';

export class KeyspaceNotifier {
  /** notify-keyspace-events as flag bits; 0 (the default) makes every notify call one failed integer test. */
  flags = 0;

  constructor(private readonly publish: (channel: string, message: string) => number) {}

  notify(type: number, event: string, key: string, dbIndex: number): void {
    const flags = this.flags;
    if ((flags & type) === 0) return;
    if (flags & NOTIFY_KEYSPACE) this.publish(`__keyspace@${dbIndex}__:${key}`, event);
    if (flags & NOTIFY_KEYEVENT) this.publish(`__keyevent@${dbIndex}__:${event}`, key);
  }

  /** Applies a notify-keyspace-events value to these databases. */
  configure(value: string, dbs: readonly Db[]): void {
    const flags = keyspaceEventsToFlags(value);
    this.flags = flags < 0 ? 0 : flags;
    // "new" fires where a key is created, deep in the store; it only gets a hook while the class is on.
    const onNew = (this.flags & NOTIFY_NEW) !== 0 ? (db: Db, key: string) => this.notify(NOTIFY_NEW, 'new', key, db.index) : null;
    for (const db of dbs) if (db instanceof KeyspaceDb) db.onNewKey = onNew;
  }
}
