#!/usr/bin/env python3
"""`idp mcp --http` through the official Python SDK's streamable-HTTP client.

    python3 tests/mcp/http_session.py URL TOKEN

Initializes, lists the tools, calls who_owns {"target": "ledger"} and prints
one JSON line: the negotiated protocol and who_owns' structured result (the
Rust test compares it with `idp who-owns ledger -o json`).
"""

import asyncio
import json
import sys

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


async def main(url, token):
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                init = await session.initialize()
                assert init.server_info.name == "idp", init
                names = {t.name for t in (await session.list_tools()).tools}
                assert {"who_owns", "get_entity", "search_entities"} <= names, names
                r = await session.call_tool("who_owns", {"target": "ledger"})
                assert not r.is_error, r
                r2 = await session.call_tool("get_entity", {"ref": "ledgr"})
                assert r2.is_error and "ledger" in r2.content[0].text, r2
                await session.send_ping()
                print(json.dumps({"protocol": init.protocol_version, "who_owns": r.structured_content}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
