#!/usr/bin/env python3
"""Benchmark `idp mcp` on the generated 10,000-entity catalog.

    cargo build --release
    bench/mcp.py                  # IDP=target/release/idp, catalog generated in a temp dir

Measures, speaking raw JSON-RPC over the server's pipes (no SDK overhead):
  - start -> `initialize` answered (process start included), warm index;
  - the first tool call (waits for the catalog load started at startup);
  - who_owns, get_entity and search_entities per call, after start.
Targets (issue 15): initialize <= 50 ms, who_owns/get_entity <= 5 ms,
search_entities <= 20 ms. Appends (or replaces) the "MCP server" section of
bench/results.md (BENCH_RESULTS). Standard library only.

Variables: IDP, BENCH_CATALOG (use this catalog), BENCH_ENTITIES (10000),
BENCH_SEED (42), BENCH_RUNS (30 starts), BENCH_CALLS (200 calls per tool),
BENCH_RESULTS (bench/results.md).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
IDP = os.environ.get("IDP", os.path.join(ROOT, "target", "release", "idp"))
RUNS = int(os.environ.get("BENCH_RUNS", "30"))
CALLS = int(os.environ.get("BENCH_CALLS", "200"))
RESULTS = os.environ.get("BENCH_RESULTS", os.path.join(HERE, "results.md"))


class Server:
    def __init__(self, catalog, env):
        self.p = subprocess.Popen([IDP, "mcp", "--catalog", catalog], env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
        self.id = 0

    def request(self, method, params):
        self.id += 1
        msg = json.dumps({"jsonrpc": "2.0", "id": self.id, "method": method, "params": params})
        self.p.stdin.write(msg.encode() + b"\n")
        self.p.stdin.flush()
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise SystemExit("idp mcp closed its stdout")
            answer = json.loads(line)
            if answer.get("id") == self.id:
                return answer

    def initialize(self):
        r = self.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                        "clientInfo": {"name": "bench", "version": "0"}})
        self.p.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        self.p.stdin.flush()
        return r

    def call(self, tool, args):
        r = self.request("tools/call", {"name": tool, "arguments": args})
        if r.get("result", {}).get("isError"):
            raise SystemExit(f"{tool} {args}: {r['result']['content'][0]['text']}")
        return r

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def ms(samples):
    s = sorted(samples)
    p95 = s[min(len(s) - 1, int(len(s) * 0.95))]
    return (f"{statistics.mean(s) * 1000:.2f} ms (median {statistics.median(s) * 1000:.2f}, "
            f"p95 {p95 * 1000:.2f}, min {s[0] * 1000:.2f}; {len(s)} runs)")


def main():
    tmp = tempfile.mkdtemp(prefix="idp-mcp-bench.")
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(tmp, "cache"),
               XDG_CONFIG_HOME=os.path.join(tmp, "config"), NO_COLOR="1")
    env.pop("IDP_CATALOG", None)
    catalog = os.environ.get("BENCH_CATALOG")
    if not catalog:
        catalog = os.path.join(tmp, "catalog")
        subprocess.run([os.path.join(HERE, "gen-catalog"), "--entities",
                        os.environ.get("BENCH_ENTITIES", "10000"), "--seed",
                        os.environ.get("BENCH_SEED", "42"), catalog],
                       check=True, stdout=subprocess.DEVNULL)
    # Warm the index once, and pick targets.
    listed = subprocess.run([IDP, "--catalog", catalog, "list", "--kind", "component",
                             "--limit", "1", "-o", "json"], env=env, check=True,
                            capture_output=True).stdout
    target = json.loads(listed)[0]["metadata"]["name"]

    starts = []
    for _ in range(RUNS):
        t = time.perf_counter()
        s = Server(catalog, env)
        s.initialize()
        starts.append(time.perf_counter() - t)
        s.close()

    s = Server(catalog, env)
    s.initialize()
    t = time.perf_counter()
    s.call("who_owns", {"target": target})
    first = time.perf_counter() - t
    rows = [("start → initialize answered (warm index)", ms(starts)),
            ("first tool call after initialize (waits for the catalog load)", f"{first * 1000:.2f} ms (1 run)")]
    for tool, args in [("who_owns", {"target": target}),
                       ("get_entity", {"ref": target}),
                       ("search_entities", {"query": "payments ledger", "limit": 20}),
                       ("search_entities", {"kind": "component", "lifecycle": "production", "limit": 20})]:
        s.call(tool, args)  # documents parsed, caches warm
        samples = []
        for _ in range(CALLS):
            t = time.perf_counter()
            s.call(tool, args)
            samples.append(time.perf_counter() - t)
        rows.append((f"{tool} {json.dumps(args)}", ms(samples)))
    s.close()
    # get_entity answers scorecard levels from the score cache: once
    # `idp score` has filled it (every entity), each call reads it.
    subprocess.run([IDP, "--catalog", catalog, "score", "-o", "json"], env=env,
                   capture_output=True)
    s = Server(catalog, env)
    s.initialize()
    s.call("get_entity", {"ref": target})
    samples = []
    for _ in range(CALLS):
        t = time.perf_counter()
        s.call("get_entity", {"ref": target})
        samples.append(time.perf_counter() - t)
    rows.append((f"get_entity {json.dumps({'ref': target})}, score cache filled by `idp score`", ms(samples)))
    s.close()

    count = json.loads(subprocess.run([IDP, "--catalog", catalog, "list", "-o", "json", "--limit", "100000"],
                                      env=env, check=True, capture_output=True).stdout)
    version = subprocess.run([IDP, "--version"], capture_output=True, text=True).stdout.strip()
    section = ["## MCP server (bench/mcp.py)", "",
               f"- date: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}; {version} ({IDP})",
               f"- catalog: {len(count)} entities (bench/gen-catalog); who_owns/get_entity target `{target}`",
               "- raw JSON-RPC over the server's pipes; per-call times are request written → answer read",
               "- load average when measured: " + " ".join(open("/proc/loadavg").read().split()[:3]) + " (on a shared machine, figures are upper bounds)",
               "", "| what | time |", "| --- | --- |"]
    section += [f"| {a} | {b} |" for a, b in rows]
    text = "\n".join(section) + "\n"
    print(text)
    old = open(RESULTS).read() if os.path.exists(RESULTS) else ""
    marker = "## MCP server (bench/mcp.py)"
    if marker in old:
        before, after = old.split(marker, 1)
        rest = after.split("\n## ", 1)
        old = before + (("## " + rest[1]) if len(rest) > 1 else "")
    with open(RESULTS, "w") as f:
        f.write(old.rstrip("\n") + "\n\n" + text)


if __name__ == "__main__":
    sys.exit(main())
