#!/usr/bin/env python3
"""A real MCP client session against `idp mcp`, with the official Python SDK.

Used by tests/it/mcp.rs (and to capture the README transcript):

    python3 tests/mcp/session.py --idp target/debug/idp --catalog DIR \
        [--allow-write DIR] [--out results.json] [--transcript FILE]

Initializes, lists the tools, calls every tool on the acme example catalog
(a copy committed twice: history and diff have something to say), reads a
resource, checks that errors are tool errors with the CLI's messages, then
talks raw JSON-RPC to a second server: malformed lines, unknown methods and
tools, and protocol-version negotiation, checking it still answers after
each. Exits non-zero (an AssertionError) on the first wrong answer. With
--out, writes every tool's arguments and structured result, so the Rust
test can compare them with `idp <command> -o json`.
"""

import argparse
import asyncio
import json
import subprocess
import sys

import jsonschema
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

READ_TOOLS = {
    "who_owns", "search_entities", "get_entity", "impact", "dependency_graph",
    "entity_history", "catalog_diff", "score", "validate_descriptor",
    "list_templates", "describe_template", "scaffold_preview",
}

GOOD_DESCRIPTOR = """apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: refunds
  description: Refunds for card payments.
spec:
  type: service
  lifecycle: experimental
  owner: payments
"""

BAD_DESCRIPTOR = """apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
spec:
  type: service
  lifecycle: production
  owner: group:default/paymnts
"""


def text_of(result):
    return "\n".join(c.text for c in result.content if getattr(c, "text", None) is not None)


class Transcript:
    def __init__(self, path):
        self.path = path
        self.lines = []

    def call(self, name, args, result):
        self.lines.append(f">>> tools/call {name} {json.dumps(args)}")
        text = text_of(result)
        first = text.split("\n", 1)[0]
        self.lines.append(f"<<< {text if result.is_error else first}")

    def note(self, line):
        self.lines.append(line)

    def write(self):
        if self.path:
            with open(self.path, "w") as f:
                f.write("\n".join(self.lines) + "\n")


async def sdk_session(opts, transcript, results):
    args = ["mcp", "--catalog", opts.catalog]
    if opts.allow_write:
        args += ["--allow-write", opts.allow_write]
    params = StdioServerParameters(command=opts.idp, args=args)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            assert init.server_info.name == "idp", init
            transcript.note(f"<<< initialize: {init.server_info.name} {init.server_info.version}, protocol {init.protocol_version}")

            tools = (await session.list_tools()).tools
            names = {t.name for t in tools}
            expected = READ_TOOLS | ({"scaffold_create"} if opts.allow_write else set())
            assert names == expected, names
            for t in tools:
                assert t.annotations.read_only_hint is (t.name in READ_TOOLS), t
                assert t.annotations.destructive_hint is False, t
                assert t.input_schema["type"] == "object", t
                assert len(t.description) > 80, t.name
            transcript.note(f"<<< tools/list: {', '.join(sorted(names))}")

            async def call(name, args, ok=True):
                r = await session.call_tool(name, args)
                transcript.call(name, args, r)
                assert bool(r.is_error) is (not ok), (name, args, text_of(r))
                if ok:
                    assert isinstance(r.structured_content, dict), (name, r)
                    # The text carries the same JSON after the summary line.
                    body = text_of(r).split("\n", 2)[1]
                    assert json.loads(body) == r.structured_content, name
                    results.append({"tool": name, "args": args, "structured": r.structured_content})
                return r

            r = await call("who_owns", {"target": "checkout"})
            assert r.structured_content["owner"]["ref"].startswith("group:"), r.structured_content

            r = await call("search_entities", {"query": "ledger", "limit": 5})
            found = [e["ref"] for e in r.structured_content["result"]]
            assert found and found[0] == "component:default/ledger", found

            r = await call("search_entities", {"kind": "component", "owner": "payments"})
            found = [e["ref"] for e in r.structured_content["result"]]
            assert "component:default/ledger" in found and all(f.startswith("component:") for f in found), found

            r = await call("get_entity", {"ref": "ledger"})
            assert r.structured_content["ref"] == "component:default/ledger"
            assert r.structured_content["spec"]["owner"] == "payments"
            # Its scorecard levels, and what to fix: the failing rules' messages.
            cards = {c["scorecard"]: c for c in r.structured_content["scorecards"]}
            assert cards["production-readiness"]["level"] == "silver", cards
            failing = [x for x in cards["production-readiness"]["rules"] if x["state"] == "fail"]
            assert failing and all(x["message"] for x in failing), failing

            r = await call("impact", {"ref": "resource:ledger-db"})
            deps = [d["entity"] for d in r.structured_content["dependents"]]
            assert "component:default/ledger" in deps, deps

            r = await call("dependency_graph", {"ref": "ledger", "depth": 1, "direction": "up"})
            assert "flowchart" in text_of(r) or "graph" in text_of(r), text_of(r)
            assert r.structured_content["entity"] == "component:default/ledger"

            r = await call("entity_history", {"ref": "ledger"})
            commits = r.structured_content["result"]
            assert len(commits) == 2 and commits[0]["summary"] == "ledger: tier 1", commits

            r = await call("catalog_diff", {"from": "HEAD~1", "to": "HEAD"})
            changed = [c["entity"] for c in r.structured_content["changed"]]
            assert "component:default/ledger" in changed, r.structured_content

            r = await call("score", {"entity": "ledger", "scorecard": "production-readiness"})
            rows = r.structured_content["results"]
            assert rows and rows[0]["entity"] == "component:default/ledger", rows
            assert "passed" in r.structured_content["gate"]

            r = await call("validate_descriptor", {"yaml": GOOD_DESCRIPTOR})
            assert r.structured_content["errors"] == [], r.structured_content
            r = await call("validate_descriptor", {"yaml": BAD_DESCRIPTOR, "path": "new/catalog-info.yaml"})
            messages = json.dumps(r.structured_content["errors"])
            assert "paymnts" in messages and "ledger" in messages, messages

            r = await call("list_templates", {})
            assert {"template:default/node-service", "template:default/python-library"} <= {t["name"] for t in r.structured_content["result"]}

            r = await call("describe_template", {"template": "python-library"})
            assert "name" in [p["name"] for p in r.structured_content["parameters"]]
            # The values as a JSON Schema an agent can check its values with.
            schema = r.structured_content["schema"]
            jsonschema.Draft7Validator.check_schema(schema)
            name = schema["properties"]["name"]
            assert name["type"] == "string" and name["pattern"].startswith("^"), name
            assert "description" in name and name["title"] == "Name", name
            packaging = schema["properties"]["packaging"]
            assert packaging["enum"] == ["poetry", "setuptools"] and packaging["default"] == "poetry", packaging
            assert {"name", "owner", "packaging"} <= set(schema["required"]), schema["required"]
            assert not any(k.startswith("ui:") for k in json.dumps(schema).split('"')), schema
            good = {"name": "mcp-lib", "owner": "payments", "packaging": "poetry",
                    "repoUrl": "gitlab.com?owner=acme&repo=mcp-lib"}
            jsonschema.validate(good, schema)
            for bad in ({**good, "name": "Not A Name"}, {**good, "packaging": "conda"},
                        {**good, "cli": True}, {"name": "mcp-lib", "owner": "payments"}):
                errors = list(jsonschema.Draft7Validator(schema).iter_errors(bad))
                assert errors, bad
            r = await call("describe_template", {"template": "node-service"})
            jsonschema.Draft7Validator.check_schema(r.structured_content["schema"])
            assert r.structured_content["schema"]["type"] == "object"

            values = {"name": "mcp-lib", "owner": "payments", "repoUrl": "gitlab.com?owner=acme&repo=mcp-lib"}
            r = await call("scaffold_preview", {"template": "python-library", "values": values})
            assert r.structured_content["dry_run"] is True
            assert "catalog-info.yaml" in r.structured_content["files"], r.structured_content["files"]
            assert "name: mcp-lib" in text_of(r), text_of(r)

            # Errors: the CLI's messages and hints, as tool errors.
            r = await call("get_entity", {"ref": "ledgr"}, ok=False)
            assert "ledger" in text_of(r) and "hint" in text_of(r) or "did you mean" in text_of(r), text_of(r)
            r = await call("impact", {"ref": "ledger", "depth": 0}, ok=False)
            assert "depth" in text_of(r), text_of(r)
            r = await call("search_entities", {"kind": "componnt"}, ok=False)
            assert "component" in text_of(r), text_of(r)
            r = await call("who_owns", {}, ok=False)
            assert "target" in text_of(r), text_of(r)
            try:
                await session.call_tool("no_such_tool", {})
                raise AssertionError("an unknown tool must be an error")
            except AssertionError:
                raise
            except Exception as e:  # a JSON-RPC error (McpError)
                assert "unknown tool" in str(e), e
                transcript.note(f">>> tools/call no_such_tool {{}}\n<<< JSON-RPC error: {e}")

            # Resources.
            listed = (await session.list_resources()).resources
            uris = {str(r.uri) for r in listed}
            assert "idp://entity/component/default/ledger" in uris, sorted(uris)[:5]
            assert "idp://scorecard/production-readiness" in uris
            templates = (await session.list_resource_templates()).resource_templates
            assert any("{kind}" in t.uri_template for t in templates)
            read = await session.read_resource("idp://entity/component/default/ledger")
            text = read.contents[0].text
            assert "name: ledger" in text and "owner: payments" in text, text
            transcript.note(">>> resources/read idp://entity/component/default/ledger")
            transcript.note("<<< " + text.split("\n")[0] + " …")
            read = await session.read_resource("idp://scorecard/production-readiness")
            assert "kind: Scorecard" in read.contents[0].text
            try:
                await session.read_resource("idp://entity/component/default/ledgr")
                raise AssertionError("a missing resource must be an error")
            except AssertionError:
                raise
            except Exception as e:
                assert "ledger" in str(e), e

            if opts.allow_write:
                r = await call("scaffold_create", {"template": "python-library", "values": values, "name": "../escape"}, ok=False)
                assert "plain directory name" in text_of(r), text_of(r)
                r = await call("scaffold_create", {"template": "python-library", "values": values, "name": "mcp-lib"})
                assert r.structured_content["dry_run"] is False
                assert r.structured_content["project"].startswith(opts.allow_write), r.structured_content

            # Still answering after everything above.
            await session.send_ping()
            return init.protocol_version


class Raw:
    """A server spoken to line by line, without the SDK."""

    def __init__(self, opts):
        self.p = subprocess.Popen(
            [opts.idp, "mcp", "--catalog", opts.catalog],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )
        self.id = 0

    def send(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def request(self, method, params=None):
        self.id += 1
        msg = {"jsonrpc": "2.0", "id": self.id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(json.dumps(msg))
        return self.answer(self.id)

    def answer(self, want):
        while True:
            line = self.p.stdout.readline()
            assert line, "the server closed stdout"
            msg = json.loads(line)
            if msg.get("id") == want:
                return msg

    def initialize(self, version):
        return self.request("initialize", {
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"},
        })

    def close(self):
        self.p.stdin.close()
        assert self.p.wait(timeout=10) == 0, self.p.returncode


def raw_checks(opts, sdk_version):
    # An older supported version is accepted as asked.
    s = Raw(opts)
    r = s.initialize("2024-11-05")
    assert r["result"]["protocolVersion"] == "2024-11-05", r
    s.close()
    # An unsupported version: the server answers with one it supports
    # (the client then decides), never the one asked.
    s = Raw(opts)
    r = s.initialize("1999-01-01")
    offered = r["result"]["protocolVersion"]
    assert offered != "1999-01-01" and offered >= "2024-11-05", r
    s.close()
    # Malformed input never kills the server.
    s = Raw(opts)
    r = s.initialize(sdk_version)
    assert "result" in r, r
    s.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    s.send("this is not json")
    s.send("{\"jsonrpc\": \"2.0\", \"id\": ")
    s.send("[1, 2, 3]")
    assert "result" in s.request("ping"), "ping after garbage"
    r = s.request("no/such/method")
    assert r["error"]["code"] == -32601, r
    r = s.request("tools/call", {"name": "who_owns", "arguments": {"target": 42}})
    assert r["result"]["isError"] is True and "target" in r["result"]["content"][0]["text"], r
    r = s.request("tools/call", {"arguments": {}})
    assert "error" in r, r
    r = s.request("tools/call", {"name": "who_ownz", "arguments": {}})
    assert "who_owns" in r["error"]["message"], r
    r = s.request("tools/call", {"name": "who_owns", "arguments": {"target": "ledger"}})
    assert r["result"]["structuredContent"]["entity"] == "component:default/ledger", r
    s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--idp", required=True)
    ap.add_argument("--catalog", required=True)
    ap.add_argument("--allow-write")
    ap.add_argument("--out")
    ap.add_argument("--transcript")
    opts = ap.parse_args()
    transcript = Transcript(opts.transcript)
    results = []
    version = asyncio.run(sdk_session(opts, transcript, results))
    raw_checks(opts, version)
    transcript.write()
    if opts.out:
        with open(opts.out, "w") as f:
            json.dump(results, f)
    print(f"ok: {len(results)} tool results, protocol {version}")


if __name__ == "__main__":
    sys.exit(main())
