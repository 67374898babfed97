"""Fake GitHub + PagerDuty for bench/dora: asyncio, one thread, HTTP/1.1
keep-alive, every answer after LATENCY ms (timers, not threads, so a
thousand requests in flight cost nothing). GET /__count gives the count.

    python3 bench/dora-fake.py PORT LATENCY_MS
"""
import asyncio, datetime as dt, functools, json, sys
from urllib.parse import urlparse, parse_qs

PORT, LATENCY = int(sys.argv[1]), float(sys.argv[2]) / 1000
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
count = 0
# Requests in flight (received, not yet answered), integrated over time:
# GET /__count also says how many were in flight on average while any was.
inflight, area, busy, last = 0, 0.0, 0.0, None


def account(delta):
    global inflight, area, busy, last
    now = asyncio.get_running_loop().time()
    if last is not None and inflight > 0:
        area += inflight * (now - last)
        busy += now - last
    last = now
    inflight += delta


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def history(repo):
    """(id, sha, created) newest first."""
    if repo == "daily":
        return [(10_000 + i, f"d{i:04}", NOW - dt.timedelta(days=i, hours=2)) for i in range(181)]
    return [(i, f"s{i}", NOW - dt.timedelta(days=d)) for i, d in ((4, 3), (3, 20), (2, 50), (1, 120))]


def commit(sha, t):
    return {"sha": sha, "node_id": "C", "url": "", "html_url": "",
            "commit": {"author": {"name": "A", "email": "a@x", "date": iso(t)},
                       "committer": {"name": "A", "email": "a@x", "date": iso(t)}, "message": sha}}


def answer(target):
    """(status, body, extra headers) for a request target."""
    u = urlparse(target); q = parse_qs(u.query); p = u.path.split("/")
    if u.path == "/incidents":
        return 200, {"incidents": [], "limit": 100, "offset": 0, "more": False}, []
    if len(p) < 5 or p[1] != "repos":
        return 404, None, []
    repo = p[3]
    h = history(repo)
    if p[4] == "deployments" and len(p) == 5:
        page = int(q.get("page", ["1"])[0]); size = 100
        rows = h[(page - 1) * size: page * size]
        links = []
        if page * size < len(h):
            links = [("link", f'<http://127.0.0.1:{PORT}/repos/acme/{repo}/deployments?environment=production&per_page=100&page={page + 1}>; rel="next"')]
        return 200, [{"id": i, "sha": s, "ref": "main", "task": "deploy", "environment": "production",
                      "description": "", "created_at": iso(t), "updated_at": iso(t)} for i, s, t in rows], links
    if p[4] == "deployments":
        t = next(t for i, s, t in h if str(i) == p[5])
        return 200, [{"id": 1, "state": "success", "environment": "production",
                      "created_at": iso(t + dt.timedelta(minutes=5)), "updated_at": iso(t)}], []
    if p[4] == "compare":
        head = p[5].split("...")[1]
        t = next(t for i, s, t in h if s == head)
        cs = [commit(head + "-a", t - dt.timedelta(hours=5)), commit(head, t - dt.timedelta(hours=1))]
        return 200, {"status": "ahead", "ahead_by": 2, "behind_by": 0, "total_commits": 2, "commits": cs, "files": []}, []
    if p[4] == "pulls":
        return 200, [], []
    return 404, None, []


@functools.lru_cache(maxsize=None)
def reply(target):
    """The bytes of the answer to `target`, built once."""
    return response(*answer(target))


def response(status, body, headers):
    data = b"" if body is None else json.dumps(body).encode()
    head = [f"HTTP/1.1 {status} {'OK' if status == 200 else 'Not Found'}",
            "content-type: application/json", f"content-length: {len(data)}"]
    head += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + data


async def serve(reader, writer):
    global count, area, busy
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            target = line.split(b" ")[1].decode()
            length = 0
            while True:
                h = await reader.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                if h.lower().startswith(b"content-length:"):
                    length = int(h.split(b":")[1])
            if length:
                await reader.readexactly(length)
            if target == "/__count":
                stats = {"count": count, "inflight_avg": area / busy if busy else 0.0, "busy_s": busy}
                writer.write(response(200, stats, []))
            elif target == "/__reset":
                area, busy = 0.0, 0.0
                writer.write(response(200, {}, []))
            else:
                count += 1
                account(+1)
                await asyncio.sleep(LATENCY)
                account(-1)
                writer.write(reply(target))
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, IndexError):
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", PORT, backlog=1024)
    async with server:
        await server.serve_forever()

asyncio.run(main())
