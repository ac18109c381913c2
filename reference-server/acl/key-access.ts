/**
 * What each key of a command needs from a %R~ / %W~ pattern (Redis 7.0's key-spec flags: ACCESS needs read,
 * INSERT / DELETE / UPDATE need write), per key spec in order: 'R', 'W', 'RW' or '' (neither, e.g. EXISTS).
 * Commands not listed have no keys.
 */
const BY_NEEDS: Record<string, string> = {
  'W': 'append del expire expireat geoadd hdel hmset hset hsetnx linsert lpush lpushx lrem lset ltrim mset msetnx persist pexpire pexpireat pfadd psetex restore restore-asking rpush rpushx sadd setex setnx setrange srem unlink xack xadd xautoclaim xclaim xdel xgroup|create xgroup|createconsumer xgroup|delconsumer xgroup|destroy xgroup|setid xsetid xtrim zadd zrem zremrangebylex zremrangebyrank zremrangebyscore',
  'R': 'bitcount bitfield_ro bitpos dump eval_ro evalsha_ro expiretime fcall_ro geodist geohash geopos georadius_ro georadiusbymember_ro geosearch get getbit getrange hget hgetall hkeys hmget hrandfield hscan hvals lcs lindex lpos lrange mget pexpiretime pfcount pfdebug pttl sdiff sinter sintercard smembers smismember srandmember sscan substr sunion ttl xinfo|consumers xinfo|groups xinfo|stream xpending xrange xread xreadgroup xrevrange zcount zdiff zinter zintercard zlexcount zmscore zrandmember zrange zrangebylex zrangebyscore zrank zrevrange zrevrangebylex zrevrangebyscore zrevrank zscan zscore zunion',
  'RW': 'bitfield blmpop blpop brpop bzmpop bzpopmax bzpopmin decr decrby eval evalsha fcall getdel getex getset hincrby hincrbyfloat incr incrby incrbyfloat lmpop lpop move rpop set setbit spop zincrby zmpop zpopmax zpopmin',
  'W,R': 'bitop geosearchstore sdiffstore sinterstore sunionstore zdiffstore zinterstore zrangestore zunionstore',
  'RW,W': 'blmove brpoplpush lmove rename renamenx rpoplpush smove',
  'R,W': 'copy',
  '-': 'exists hexists hlen hstrlen llen memory|usage object|encoding object|freq object|idletime object|refcount scard sismember spublish ssubscribe strlen sunsubscribe touch type watch xlen zcard',
  'R,W,W': 'georadius georadiusbymember',
  'RW,RW': 'migrate',
  'RW,R': 'pfmerge',
  'R,R,W': 'sort',
  'R,R': 'sort_ro',
};

/** Command name ("parent|sub" for subcommands) -> the needs of its key specs, in order. */
export const KEY_NEEDS = new Map<string, string[]>();
for (const [needs, names] of Object.entries(BY_NEEDS)) {
  const list = needs.split(',').map((n) => (n === '-' ? '' : n));
  for (const name of names.split(' ')) KEY_NEEDS.set(name, list);
}
