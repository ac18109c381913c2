/** The default topology compiled into the package: `run` without a topology uses it (same text as topologies/sentinel-haproxy-reference.yml). */
export const EMBEDDED_DEFAULT_NAME = '<embedded:sentinel-haproxy-reference>';

export const EMBEDDED_DEFAULT_YAML = "# yaml-language-server: $schema=./schema.json\n" +
  "# Seed 000 as the mission describes the default: the reference server for Redis and for Sentinel, behind real HAProxy.\n" +
  "# redis1 master, redis2 replica, redis3 runs the Sentinel and HAProxy (which binds 6379 there). `npm start` runs it.\n" +
  "name: sentinel-haproxy-reference\n" +
  "description: One master, one replica, one Sentinel (all reference servers) and HAProxy routing to the master.\n" +
  "kind: sentinel\n" +
  "hosts: [redis1, redis2, redis3]\n" +
  "targets:\n" +
  "  redis: reference\n" +
  "  sentinel: reference\n" +
  "auth:\n" +
  "  password: TestPass\n" +
  "redis:\n" +
  "  - name: redis1\n" +
  "    host: redis1\n" +
  "    port: 6379\n" +
  "  - name: redis2\n" +
  "    host: redis2\n" +
  "    port: 6379\n" +
  "    replicaof: redis1\n" +
  "sentinels:\n" +
  "  - name: sentinel1\n" +
  "    host: redis3\n" +
  "    port: 26379\n" +
  "    masterName: master01\n" +
  "    monitors: redis1\n" +
  "    quorum: 1\n" +
  "    downAfterMs: 3000\n" +
  "    failoverTimeoutMs: 6000\n" +
  "    parallelSyncs: 1\n" +
  "    authPass: TestPass\n" +
  "haproxy:\n" +
  "  name: haproxy\n" +
  "  host: redis3\n" +
  "  port: 6379\n" +
  "  backends: [redis1, redis2]\n" +
  "  check:\n" +
  "    # The seed checks every 3s; 1s keeps CI fast with the same AUTH/PING/info replication/QUIT sequence.\n" +
  "    interMs: 1000\n" +
  "    rise: 2\n" +
  "    fall: 3\n" +
  "    roleCheck: true\n" +
  "budgets:\n" +
  "  failoverMs: 10000\n" +
  "  unavailabilityMs: 15000\n" +
  "profiles:\n" +
  "  ci:\n" +
  "    haproxy:\n" +
  "      check:\n" +
  "        interMs: 500\n" ;
