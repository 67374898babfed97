#!/usr/bin/env python3
"""Fake GitHub, PagerDuty and SonarQube APIs on 127.0.0.1:8787 for the
live-data demo (examples/live). Payloads follow the real APIs' shapes;
the times are relative to now so ages read naturally."""
import json
import sys
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8787


def ago(**kw):
    return (datetime.now(timezone.utc) - timedelta(**kw)).strftime("%Y-%m-%dT%H:%M:%SZ")


def ahead(**kw):
    return (datetime.now(timezone.utc) + timedelta(**kw)).strftime("%Y-%m-%dT%H:%M:%SZ")


def github(path, query):
    if path == "/":
        return 200, {"current_user_url": "http://127.0.0.1:%d/github/user" % PORT}, {}
    # Any acme repository answers like acme/payments (for bench/live).
    parts = path.split("/")
    if len(parts) > 3 and parts[1] == "repos" and parts[2] == "acme":
        parts[3] = "payments"
        path = "/".join(parts)
    if path == "/repos/acme/payments":
        return 200, {"full_name": "acme/payments", "html_url": "https://github.com/acme/payments",
                     "default_branch": "main", "archived": False}, {}
    if path == "/repos/acme/payments/commits":
        return 200, [{"sha": "4f2a9c1d0e5b6a7c8d9e0f1a2b3c4d5e6f7a8b9c",
                      "commit": {"message": "Retry idempotent captures\n\nWith backoff.",
                                 "author": {"name": "Ada Lovelace", "email": "ada@acme.example", "date": ago(hours=3)},
                                 "committer": {"name": "Ada Lovelace", "email": "ada@acme.example", "date": ago(hours=3)}},
                      "author": {"login": "ada"}}], {}
    if path == "/repos/acme/payments/pulls":
        link = ('<http://127.0.0.1:%d/github/repos/acme/payments/pulls?state=open&per_page=1&page=2>; rel="next", '
                '<http://127.0.0.1:%d/github/repos/acme/payments/pulls?state=open&per_page=1&page=4>; rel="last"' % (PORT, PORT))
        return 200, [{"number": 42}], {"Link": link}
    if path == "/repos/acme/payments/actions/runs":
        return 200, {"total_count": 1, "workflow_runs": [{
            "id": 1, "name": "CI", "status": "completed", "conclusion": "success",
            "html_url": "https://github.com/acme/payments/actions/runs/1", "created_at": ago(hours=3),
            "head_branch": "main"}]}, {}
    if path == "/repos/acme/payments/releases/latest":
        return 200, {"tag_name": "v2.14.0", "name": "v2.14.0", "published_at": ago(days=2),
                     "html_url": "https://github.com/acme/payments/releases/tag/v2.14.0"}, {}
    if path == "/repos/acme/payments/deployments":
        return 200, [{"id": 7, "sha": "4f2a9c1d0e5b6a7c8d9e0f1a2b3c4d5e6f7a8b9c", "ref": "v2.14.0",
                      "environment": "production", "created_at": ago(hours=2)}], {}
    if path == "/repos/acme/payments/deployments/7/statuses":
        return 200, [{"id": 70, "state": "success", "created_at": ago(hours=2)}], {}
    return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, {}


def pagerduty(path, query):
    services = {"PPAY001": "PEPPAY", "PLEDGER": "PEPLEDGER"}
    if path == "/abilities":
        return 200, {"abilities": ["teams", "read_only_users"]}, {}
    if path.startswith("/services/"):
        sid = path.split("/")[2]
        if sid not in services:
            return 404, {"error": {"message": "Not Found", "code": 2100}}, {}
        return 200, {"service": {"id": sid, "name": sid.title(), "status": "active",
                                 "html_url": "https://acme.pagerduty.com/service-directory/" + sid,
                                 "escalation_policy": {"id": services[sid], "type": "escalation_policy_reference",
                                                       "summary": "Payments"}}}, {}
    if path.startswith("/escalation_policies/"):
        eid = path.split("/")[2]
        return 200, {"escalation_policy": {"id": eid, "name": "Payments Team",
                                           "html_url": "https://acme.pagerduty.com/escalation_policies/" + eid}}, {}
    if path == "/oncalls":
        eps = query.get("escalation_policy_ids[]", [])
        people = []
        if "PEPPAY" in eps or "PTEAMEP" in eps:
            people = [
                {"escalation_level": 1, "start": ago(days=1), "end": ahead(days=6),
                 "user": {"id": "PU1", "type": "user", "name": "Ada Lovelace", "email": "ada@acme.example"}},
                {"escalation_level": 2, "start": ago(days=30), "end": None,
                 "user": {"id": "PU2", "type": "user", "name": "Grace Hopper", "email": "grace@acme.example"}},
            ]
        return 200, {"oncalls": people, "limit": 100, "offset": 0, "more": False, "total": None}, {}
    if path == "/incidents":
        return 200, {"incidents": [], "limit": 1, "offset": 0, "more": False, "total": 1}, {}
    return 404, {"error": {"message": "Not Found", "code": 2100}}, {}


def sonarqube(path, query):
    if path == "/api/system/status":
        return 200, {"id": "demo", "version": "10.6", "status": "UP"}, {}
    if path == "/api/measures/component":
        return 200, {"component": {"key": "acme_payments", "name": "payments", "qualifier": "TRK", "measures": [
            {"metric": "coverage", "value": "86.4"}, {"metric": "bugs", "value": "0"},
            {"metric": "vulnerabilities", "value": "1"}, {"metric": "code_smells", "value": "23"},
            {"metric": "alert_status", "value": "OK"}]}}, {}
    if path == "/api/qualitygates/project_status":
        return 200, {"projectStatus": {"status": "OK", "conditions": []}}, {}
    if path == "/api/project_analyses/search":
        return 200, {"paging": {"pageIndex": 1, "pageSize": 1, "total": 1},
                     "analyses": [{"key": "AX1", "date": ago(hours=5).replace("Z", "+0000"), "events": []}]}, {}
    return 404, {"errors": [{"msg": "Unknown url : " + path}]}, {}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        prefix, _, rest = url.path.lstrip("/").partition("/")
        api = {"github": github, "pagerduty": pagerduty, "sonarqube": sonarqube}.get(prefix)
        status, body, headers = api("/" + rest, query) if api else (404, {"message": "unknown API"}, {})
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    print(f"fake GitHub/PagerDuty/SonarQube on http://127.0.0.1:{PORT}", flush=True)
    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # the default 5 drops bursts of connections
        daemon_threads = True

    Server(("127.0.0.1", PORT), Handler).serve_forever()
