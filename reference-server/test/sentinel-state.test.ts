/** Sentinel monitor state and sentinel.conf: parsing in Redis's passes, errors, the rewrite that persists state. */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigFileError } from '../config/config.js';
import { applySentinelDirectives, extractSentinelDirectives, flushSentinelFile, rewriteSentinelText } from '../sentinel/config.js';
import {
  FailoverState, SRI_MASTER, SRI_O_DOWN, SRI_S_DOWN, SRI_SENTINEL, SRI_SLAVE, SentinelState, countLeaderVotes, describeInstance, selectSlave,
} from '../sentinel/state.js';

const ID_A = 'a'.repeat(40);
const ID_B = 'b'.repeat(40);
const ID_C = 'c'.repeat(40);

function load(text: string): SentinelState {
  const st = new SentinelState();
  applySentinelDirectives(st, extractSentinelDirectives(text).directives);
  return st;
}

function loadError(text: string): ConfigFileError {
  try {
    load(text);
  } catch (e) {
    if (e instanceof ConfigFileError) return e;
    throw e;
  }
  throw new Error('expected a config error');
}

describe('sentinel: state and sentinel.conf', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rr-sconf-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('loads global options before monitors and per-master options after them, whatever the file order', () => {
    const st = load([
      'port 26379',
      'sentinel down-after-milliseconds m1 5000',
      'sentinel known-replica m1 127.0.0.1 7001',
      `sentinel known-sentinel m1 127.0.0.1 26380 ${ID_B}`,
      'sentinel known-sentinel m1 127.0.0.1 26381',
      'sentinel monitor m1 127.0.0.1 7000 2',
      'sentinel config-epoch m1 7',
      'sentinel leader-epoch m1 6',
      `sentinel myid ${ID_A}`,
      'sentinel current-epoch 5',
      'sentinel parallel-syncs m1 3',
      'sentinel failover-timeout m1 9000',
      'sentinel auth-pass m1 secret',
      'sentinel auth-user m1 bob',
      'sentinel rename-command m1 CONFIG XCONFIG',
      'sentinel announce-ip 10.0.0.9',
      'sentinel announce-port 5555',
      'sentinel deny-scripts-reconfig no',
    ].join('\n'));
    expect(st.myid).to.equal(ID_A);
    // config-epoch 7 raises the current epoch past the file's 5.
    expect(st.currentEpoch).to.equal(7);
    const m = st.masterByName('m1')!;
    expect(m.addr).to.deep.equal({ hostname: '127.0.0.1', ip: '127.0.0.1', port: 7000 });
    expect(m.quorum).to.equal(2);
    expect(m.downAfterPeriod).to.equal(5000);
    expect(m.failoverTimeout).to.equal(9000);
    expect(m.parallelSyncs).to.equal(3);
    expect(m.configEpoch).to.equal(7);
    expect(m.leaderEpoch).to.equal(6);
    expect(m.authPass).to.equal('secret');
    expect(m.authUser).to.equal('bob');
    expect(m.renamedCommands.get('config')).to.equal('XCONFIG');
    expect([...m.slaves.keys()]).to.deep.equal(['127.0.0.1:7001']);
    // The three-argument known-sentinel (no run id) is ignored, as in Redis.
    expect([...m.sentinels.keys()]).to.deep.equal([ID_B]);
    expect(m.slaves.get('127.0.0.1:7001')!.downAfterPeriod).to.equal(5000);
    expect(st.announceIp).to.equal('10.0.0.9');
    expect(st.announcePort).to.equal(5555);
    expect(st.denyScriptsReconfig).to.equal(false);
  });

  it('rejects bad directives with Redis words, the line number and the line', () => {
    let e = loadError('\n\nsentinel down-after-milliseconds nope 100\n');
    expect(e.message).to.contain('at line 3').and.contain(">>> 'sentinel down-after-milliseconds nope 100'").and.contain('No such master with specified name.');
    expect(loadError('sentinel monitor m 127.0.0.1 6379 0').reason).to.equal('Quorum must be 1 or greater.');
    expect(loadError('sentinel myid abc').reason).to.equal('Malformed Sentinel id in myid option.');
    expect(loadError('sentinel bogus 1').reason).to.equal('Unrecognized sentinel configuration statement.');
    expect(loadError('sentinel monitor m 127.0.0.1 6379 1\nsentinel monitor m 127.0.0.1 6380 1').reason).to.equal('Duplicate master name.');
    expect(loadError('sentinel monitor m 127.0.0.1 99999 1').reason).to.equal('Invalid port number.');
    expect(loadError('sentinel monitor m some-host 6379 1').reason).to.equal("Can't resolve instance hostname.");
    expect(loadError('sentinel monitor m 127.0.0.1 6379 1\nsentinel down-after-milliseconds m 0').reason).to.equal('negative or zero time parameter.');
    expect(loadError('sentinel resolve-hostnames maybe').reason).to.equal('Please specify yes or no for the resolve-hostnames option.');
    expect(loadError('sentinel monitor m 127.0.0.1 6379 1\nsentinel notification-script m /nonexistent/x').reason)
      .to.equal('Notification script seems non existing or non executable.');
    e = loadError('sentinel monitor m 127.0.0.1 6379 1\nsentinel known-replica m 127.0.0.1 7001\nsentinel known-replica m 127.0.0.1 7001');
    expect(e.reason).to.equal('Duplicate hostname and port for replica.');
  });

  it('rewrites in place, drops stale lines, appends new ones after the signature, keeps comments and other directives', () => {
    const original = [
      '# my sentinel',
      'port 26379',
      'sentinel monitor m1 127.0.0.1 7000 2',
      'sentinel known-replica m1 127.0.0.1 7009',
      '# keep me',
      'sentinel down-after-milliseconds m1 5000',
    ];
    const st = load(original.join('\n'));
    st.myid = ID_A;
    st.currentEpoch = 3;
    const m = st.masterByName('m1')!;
    m.slaves.clear();
    st.createInstance(null, SRI_SLAVE, '127.0.0.1', 7001, 2, m);
    const s = st.createInstance(ID_B, SRI_SENTINEL, '127.0.0.1', 26380, 2, m);
    s.runid = ID_B;
    const out = rewriteSentinelText(original, st);
    expect(out).to.deep.equal([
      '# my sentinel',
      'port 26379',
      'sentinel monitor m1 127.0.0.1 7000 2',
      'sentinel known-replica m1 127.0.0.1 7001',
      '# keep me',
      'sentinel down-after-milliseconds m1 5000',
      '# Generated by CONFIG REWRITE',
      `sentinel myid ${ID_A}`,
      'sentinel config-epoch m1 0',
      'sentinel leader-epoch m1 0',
      `sentinel known-sentinel m1 127.0.0.1 26380 ${ID_B}`,
      'sentinel current-epoch 3',
    ]);
    // A second rewrite of the rewritten file is stable.
    expect(rewriteSentinelText(out, st)).to.deep.equal(out);
  });

  it('writes the promoted replica with the old master address mid-failover and the monitor at the new one', () => {
    const st = load('sentinel monitor m1 127.0.0.1 7000 2\nsentinel known-replica m1 127.0.0.1 7001');
    st.myid = ID_A;
    const m = st.masterByName('m1')!;
    const promoted = m.slaves.get('127.0.0.1:7001')!;
    m.flags |= 1 << 6;
    m.promotedSlave = promoted;
    m.failoverState = FailoverState.ReconfSlaves;
    const out = rewriteSentinelText([], st);
    expect(out).to.include('sentinel monitor m1 127.0.0.1 7001 2');
    expect(out).to.include('sentinel known-replica m1 127.0.0.1 7000');
  });

  it('flushes to disk so a restarted Sentinel loads the same state back', () => {
    const file = join(dir, 'sentinel.conf');
    writeFileSync(file, 'port 26999\nsentinel monitor m1 127.0.0.1 7000 2\n');
    const st = load(readFileSync(file, 'latin1'));
    st.myid = ID_A;
    st.currentEpoch = 9;
    const m = st.masterByName('m1')!;
    m.configEpoch = 9;
    m.leaderEpoch = 9;
    st.createInstance(null, SRI_SLAVE, '127.0.0.1', 7001, 2, m);
    st.createInstance(ID_C, SRI_SENTINEL, '127.0.0.1', 26381, 2, m).runid = ID_C;
    flushSentinelFile(file, st);
    const text = readFileSync(file, 'latin1');
    expect(text.startsWith('port 26999\nsentinel monitor m1 127.0.0.1 7000 2\n')).to.equal(true);
    const again = load(text);
    expect(again.myid).to.equal(ID_A);
    expect(again.currentEpoch).to.equal(9);
    const m2 = again.masterByName('m1')!;
    expect(m2.configEpoch).to.equal(9);
    expect(m2.leaderEpoch).to.equal(9);
    expect([...m2.slaves.keys()]).to.deep.equal(['127.0.0.1:7001']);
    expect(m2.sentinels.get(ID_C)!.runid).to.equal(ID_C);
  });

  it('names instances and describes them as events do', () => {
    const st = load('sentinel monitor m1 127.0.0.1 7000 2');
    const m = st.masterByName('m1')!;
    const r = st.createInstance(null, SRI_SLAVE, '::1', 7001, 2, m);
    expect(r.name).to.equal('[::1]:7001');
    expect(describeInstance(st, m)).to.equal('master m1 127.0.0.1 7000');
    expect(describeInstance(st, r)).to.equal('slave [::1]:7001 ::1 7001 @ m1 127.0.0.1 7000');
    m.flags |= SRI_S_DOWN | SRI_O_DOWN;
    expect(m.flagsString()).to.equal('s_down,o_down,master,disconnected');
    expect(st.masterByAddr('127.0.0.1', 7000)).to.equal(m);
    expect(m.is(SRI_MASTER)).to.equal(true);
  });

  it('selects the replica by priority, then offset, then run id, skipping unusable ones', () => {
    let now = 1_000_000;
    const st = load('sentinel monitor m1 127.0.0.1 7000 2');
    st.clock = () => now;
    const m = st.masterByName('m1')!;
    const mk = (port: number, prio: number, offset: number, runid: string | null) => {
      const r = st.createInstance(null, SRI_SLAVE, '127.0.0.1', port, 2, m);
      r.link.disconnected = false;
      r.link.lastAvailTime = now;
      r.infoRefresh = now;
      r.slavePriority = prio;
      r.slaveReplOffset = offset;
      r.runid = runid;
      return r;
    };
    mk(7001, 100, 50, 'b');
    const best = mk(7002, 100, 90, 'z');
    mk(7003, 0, 1000, 'a'); // priority 0 never
    const low = mk(7004, 10, 1, null);
    expect(selectSlave(m, st.timing, now)).to.equal(low);
    low.flags |= SRI_S_DOWN;
    expect(selectSlave(m, st.timing, now)).to.equal(best);
    best.link.disconnected = true;
    expect(selectSlave(m, st.timing, now)!.addr.port).to.equal(7001);
    now += 60_000; // INFO too old for everybody
    expect(selectSlave(m, st.timing, now)).to.equal(undefined);
  });

  it('counts votes: a majority of voters and the quorum, our own vote for the front runner', () => {
    const st = load('sentinel monitor m1 127.0.0.1 7000 2');
    const m = st.masterByName('m1')!;
    const b = st.createInstance(ID_B, SRI_SENTINEL, '127.0.0.1', 26380, 2, m);
    const c = st.createInstance(ID_C, SRI_SENTINEL, '127.0.0.1', 26381, 2, m);
    b.leader = ID_B;
    b.leaderEpoch = 4;
    c.leader = null;
    // We vote for B (the only runid with votes): 2 of 3 voters, quorum 2.
    expect(countLeaderVotes(m, 4, ID_A, (cand) => cand)).to.equal(ID_B);
    // Nobody else voted for us and we vote ourselves: 1 of 3 is no majority.
    b.leaderEpoch = 3;
    expect(countLeaderVotes(m, 4, ID_A, (cand) => cand)).to.equal(null);
    c.leader = ID_A;
    c.leaderEpoch = 4;
    expect(countLeaderVotes(m, 4, ID_A, (cand) => cand)).to.equal(ID_A);
    // Our vote went to another epoch: it does not count.
    expect(countLeaderVotes(m, 4, ID_A, () => null)).to.equal(null);
  });
});
