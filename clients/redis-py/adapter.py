#!/usr/bin/python3
"""redis-py (Debian's python3-redis) as an application would configure it: library defaults plus the connect and
command timeouts the harness hands over. Modes: direct, haproxy, sentinel (Sentinel.master_for), cluster (RedisCluster).
Requests run on a thread pool so a slow command never delays a ping; stdout writes are serialised."""
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import redis
from redis.cluster import ClusterNode, RedisCluster
from redis.sentinel import Sentinel

out_lock = threading.Lock()


def emit(obj):
    line = json.dumps(obj)
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def now_ms():
    return time.time() * 1000


def open_client(hello):
    connect_s = hello["timeouts"]["connectMs"] / 1000
    command_s = hello["timeouts"]["commandMs"] / 1000
    common = dict(password=hello.get("password"), socket_connect_timeout=connect_s, socket_timeout=command_s, decode_responses=True)
    mode = hello["mode"]
    if mode in ("direct", "haproxy"):
        return redis.Redis(host=hello["address"]["host"], port=hello["address"]["port"], **common)
    if mode == "sentinel":
        sentinel = Sentinel([(s["host"], s["port"]) for s in hello["sentinels"]], socket_timeout=command_s, socket_connect_timeout=connect_s)
        return sentinel.master_for(hello["masterName"], **common)
    if mode == "cluster":
        return RedisCluster(startup_nodes=[ClusterNode(s["host"], s["port"]) for s in hello["seeds"]], **common)
    raise ValueError("unknown mode %s" % mode)


def classify(err):
    # A Redis error reply was never applied; timeouts and dropped connections may have been.
    if isinstance(err, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
        return "info"
    if isinstance(err, redis.exceptions.ResponseError):
        return "fail"
    return "info"


class Session:
    def __init__(self, hello):
        self.client = open_client(hello)
        self.pubsub = None
        self.listener = None

    def run(self, req):
        op = req["op"]
        c = self.client
        if op == "set":
            return c.set(req["key"], req["value"])
        if op == "get":
            return c.get(req["key"])
        if op == "sadd":
            return c.sadd(req["key"], req["value"])
        if op == "smembers":
            return sorted(c.smembers(req["key"]))
        if op == "publish":
            return c.publish(req["channel"], req["message"])
        if op == "subscribe":
            if self.pubsub is None:
                self.pubsub = c.pubsub()
            self.pubsub.subscribe(**{req["channel"]: lambda m: emit({"type": "message", "channel": m["channel"], "message": m["data"], "t": now_ms()})})
            if self.listener is None:
                self.listener = self.pubsub.run_in_thread(sleep_time=0.05, daemon=True, exception_handler=self.on_listener_error)
            return 1
        raise ValueError("unsupported op %s" % op)

    def on_listener_error(self, err, pubsub, thread):
        # run_in_thread stops on an error by default; keep listening (redis-py reconnects and resubscribes on the next read).
        emit({"type": "log", "message": "subscriber: %s" % err})
        time.sleep(0.1)


def main():
    pool = ThreadPoolExecutor(max_workers=64)
    session = None
    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        if session is None:
            session = Session(msg)
            emit({"type": "ready", "client": "redis-py %s (%s)" % (redis.__version__, msg["mode"])})
            continue
        rid, op = msg["id"], msg["op"]
        if op == "ping":
            emit({"id": rid, "type": "ok", "value": "PONG"})
            continue
        if op == "quit":
            emit({"id": rid, "type": "ok"})
            break

        def work(req=msg):
            t0 = now_ms()
            try:
                value = session.run(req)
                emit({"id": req["id"], "type": "ok", "value": value, "t0": t0, "t1": now_ms()})
            except Exception as err:  # every client error is an answer, never a crash
                emit({"id": req["id"], "type": classify(err), "error": ("%s: %s" % (type(err).__name__, err)).splitlines()[0], "t0": t0, "t1": now_ms()})

        pool.submit(work)
    pool.shutdown(wait=False, cancel_futures=True)
    sys.stdout.flush()
    import os
    os._exit(0)


if __name__ == "__main__":
    main()
