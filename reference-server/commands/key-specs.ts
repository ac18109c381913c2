/**
 * Each command's key specs' flags (Redis 7.0's command table: RO RW OW RM, access update insert delete, not_key
 * incomplete variable_flags), one entry per key spec in order; COMMAND GETKEYSANDFLAGS shows them and ACL's %R~ / %W~
 * patterns check them (access needs read; update, insert and delete need write). Commands not listed have no keys.
 */
const BY_FLAGS: Record<string, string> = {
  'RW insert': 'append hsetnx linsert lpush lpushx pfadd rpush rpushx sadd xgroup|create xgroup|createconsumer',
  'RO access': 'bitcount bitfield_ro bitpos dump eval_ro evalsha_ro expiretime fcall_ro geodist geohash geopos georadius_ro georadiusbymember_ro geosearch get getbit getrange hget hgetall hkeys hmget hrandfield hscan hvals lcs lindex lpos lrange mget pexpiretime pttl sdiff sinter sintercard smembers smismember srandmember sscan substr sunion ttl xinfo|consumers xinfo|groups xinfo|stream xpending xrange xread xreadgroup xrevrange zcount zdiff zinter zintercard zlexcount zmscore zrandmember zrange zrangebylex zrangebyscore zrank zrevrange zrevrangebylex zrevrangebyscore zrevrank zscan zscore zunion',
  'RW access update variable_flags': 'bitfield set',
  'OW update|RO access': 'bitop geosearchstore sdiffstore sunionstore zdiffstore zinterstore zrangestore zunionstore',
  'RW access delete|RW insert': 'blmove brpoplpush lmove rpoplpush smove',
  'RW access delete': 'blmpop blpop brpop bzmpop bzpopmax bzpopmin getdel lmpop lpop rpop spop zmpop zpopmax zpopmin',
  'RO access|OW update': 'copy',
  'RW access update': 'decr decrby eval evalsha fcall getex getset hincrby hincrbyfloat incr incrby incrbyfloat move setbit zincrby',
  'RM delete': 'del unlink',
  'RO': 'exists hexists hlen hstrlen llen memory|usage object|encoding object|freq object|idletime object|refcount scard sismember strlen touch type watch xlen zcard',
  'RW update': 'expire expireat geoadd hmset hset lset persist pexpire pexpireat setrange xack xadd xclaim xgroup|setid xsetid zadd',
  'RO access|OW update|OW update': 'georadius georadiusbymember',
  'RW delete': 'hdel lrem ltrim srem xautoclaim xdel xgroup|delconsumer xgroup|destroy xtrim zrem zremrangebylex zremrangebyrank zremrangebyscore',
  'RW access delete|RW access delete incomplete': 'migrate',
  'OW update': 'mset psetex restore restore-asking setex',
  'OW insert': 'msetnx setnx',
  'RW access': 'pfcount pfdebug',
  'RW access insert|RO access': 'pfmerge',
  'RW access delete|OW update': 'rename',
  'RW access delete|OW insert': 'renamenx',
  'RW update|RO access': 'sinterstore',
  'RO access|RO access|OW update': 'sort',
  'RO access|RO access': 'sort_ro',
  'not_key': 'spublish ssubscribe sunsubscribe',
};

const KEY_SPECS = new Map<string, string[][]>();
for (const [flags, names] of Object.entries(BY_FLAGS)) {
  const specs = flags.split('|').map((f) => f.split(' ').filter((x) => x !== ''));
  for (const name of names.split(' ')) KEY_SPECS.set(name, specs);
}

/**
 * The flags of each key commandKeys found, in order: the i-th key takes the i-th key spec's flags (later keys the
 * last one's). SET and BITFIELD refine their variable flags from their arguments, as setGetKeys and bitfieldGetKeys do.
 */
export function keyFlags(name: string, argv: readonly string[], count: number): string[][] {
  let specs = KEY_SPECS.get(name);
  if (name === 'set') {
    const get = argv.slice(3).some((a) => a.toLowerCase() === 'get');
    specs = [get ? ['RW', 'access', 'update'] : ['OW', 'update']];
  } else if (name === 'bitfield') {
    const writes = argv.slice(2).some((a) => { const l = a.toLowerCase(); return l === 'set' || l === 'incrby'; });
    specs = [writes ? ['RW', 'access', 'update'] : ['RO', 'access']];
  }
  const out: string[][] = [];
  for (let i = 0; i < count; i++) out.push(specs === undefined ? [] : specs[Math.min(i, specs.length - 1)]);
  return out;
}
