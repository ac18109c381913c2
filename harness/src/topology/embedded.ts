/** The default topology compiled into the package: `run` without a topology uses it (same text as topologies/sentinel-haproxy.yml). */
export const EMBEDDED_DEFAULT_NAME = '<embedded:sentinel-haproxy>';

export const EMBEDDED_DEFAULT_YAML = "# yaml-language-server: $schema=./schema.json\n" +
  "# Seed 000: redis1 master, redis2 replica, redis3 runs the Sentinel and HAProxy (which binds 6379 there).\n" +
  "name: sentinel-haproxy\n" +
  "description: One master, one replica, one Sentinel and HAProxy routing to the master (the seed's first half).\n" +
  "kind: sentinel\n" +
  "hosts: [redis1, redis2, redis3]\n" +
  "targets:\n" +
  "  redis: reference\n" +
  "  sentinel: redis\n" +
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
