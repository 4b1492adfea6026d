/**
 * Read an Elrond SQLite database from the bench process while a server writes it (WAL: readers never block
 * the writer). Only SELECTs; the bench never writes Elrond's tables behind its back.
 */
import SqliteDatabase from 'better-sqlite3';

export interface EventRecord {
  id: number;
  at: number;
  kind: string;
  /** Who made it: 'supervisor' for Elrond itself. */
  source: string;
  ring_id: string | null;
  installation_group_id: string | null;
  rollout_id: string | null;
  old_state: string | null;
  new_state: string | null;
  message: string;
}

export interface RingRecord {
  id: string;
  name: string;
  priority: number;
  state: string;
  active_release_id: string;
  desired_release_id: string;
  rollout_id: string | null;
  soak_until: number | null;
}

export interface OutboxRecord {
  id: number;
  event_id: number | null;
  sink: string;
  ordering_key: string;
  payload: string;
  attempts: number;
  delivered_at: number | null;
  last_error: string | null;
}

export class DbReader {
  readonly #db: SqliteDatabase.Database;

  constructor(file: string) {
    this.#db = new SqliteDatabase(file, { fileMustExist: true });
    this.#db.pragma('busy_timeout = 5000');
  }

  close(): void {
    this.#db.close();
  }

  rings(): RingRecord[] {
    return this.#db.prepare('select id, name, priority, state, active_release_id, desired_release_id, rollout_id, soak_until from rings where delete_at = 0 order by priority, create_seq').all() as RingRecord[];
  }

  /** The newest rollout (by creation), or undefined. */
  latestRollout(): { id: string; release_id: string; post_id: string | null; end_at: number | null; create_at: number } | undefined {
    return this.#db.prepare('select id, release_id, post_id, end_at, create_at from rollouts order by create_at desc, rowid desc limit 1').get() as never;
  }

  rollout(id: string): { id: string; release_id: string; post_id: string | null; end_at: number | null } | undefined {
    return this.#db.prepare('select id, release_id, post_id, end_at from rollouts where id = ?').get(id) as never;
  }

  releaseVersion(id: string): string | undefined {
    return (this.#db.prepare('select version from releases where id = ?').get(id) as { version: string } | undefined)?.version;
  }

  events(rolloutId?: string): EventRecord[] {
    const columns = 'id, at, kind, source, ring_id, installation_group_id, rollout_id, old_state, new_state, message';
    return (rolloutId
      ? this.#db.prepare(`select ${columns} from events where rollout_id = ? order by id`).all(rolloutId)
      : this.#db.prepare(`select ${columns} from events order by id`).all()) as EventRecord[];
  }

  /** The ring each installation group belongs to, by group id and by provisioner group id. */
  groupOwners(): { byGroup: Map<string, string>; byProvisionerGroup: Map<string, string> } {
    const rows = this.#db
      .prepare('select g.id as group_id, g.provisioner_group_id as pg, l.ring_id as ring_id from installation_groups g join ring_installation_groups l on l.installation_group_id = g.id')
      .all() as Array<{ group_id: string; pg: string; ring_id: string }>;
    return { byGroup: new Map(rows.map((r) => [r.group_id, r.ring_id])), byProvisionerGroup: new Map(rows.map((r) => [r.pg, r.ring_id])) };
  }

  outbox(sink?: string): OutboxRecord[] {
    const columns = 'id, event_id, sink, ordering_key, payload, attempts, delivered_at, last_error';
    return (sink ? this.#db.prepare(`select ${columns} from outbox where sink = ? order by id`).all(sink) : this.#db.prepare(`select ${columns} from outbox order by id`).all()) as OutboxRecord[];
  }

  undelivered(sink?: string): number {
    const row = (sink
      ? this.#db.prepare('select count(*) as n from outbox where delivered_at is null and sink = ?').get(sink)
      : this.#db.prepare('select count(*) as n from outbox where delivered_at is null').get()) as { n: number };
    return row.n;
  }

  /** True when every live ring is stable on the release `version`. */
  allStableOn(version: string): boolean {
    const rows = this.#db
      .prepare('select r.state as state, a.version as active, d.version as desired from rings r join releases a on a.id = r.active_release_id join releases d on d.id = r.desired_release_id where r.delete_at = 0')
      .all() as Array<{ state: string; active: string; desired: string }>;
    return rows.length > 0 && rows.every((r) => r.state === 'stable' && r.active === version && r.desired === version);
  }

  /** Rings not stable, with their state and status, for failure reports. */
  describeUnfinished(): string {
    const rows = this.#db.prepare("select name, state, status_message, failure_reason from rings where delete_at = 0 and state != 'stable' order by priority").all() as Array<Record<string, string>>;
    return rows.map((r) => `${r.name}: ${r.state} (${r.failure_reason ?? r.status_message})`).join('; ');
  }
}
