"""Runs scim2-tester's check_server against a SCIM 2.0 service provider and writes every check result as JSON.

Driven by test/support/scim2-tester.ts:

    python scim2_tester_run.py --base-url http://127.0.0.1:8080/scim2 --output results.json

The Authorization header comes from the SCIM2_TESTER_AUTHORIZATION environment variable (not the command line,
where other users of the machine could read it). SCIM2_TESTER_TRACE=1 prints each HTTP exchange on stderr.

scim2-tester reads the server's /ServiceProviderConfig, /ResourceTypes and /Schemas, builds models of the
resources from them, then creates, reads, lists, replaces, patches and deletes each resource type. Every
CheckResult is written out, whatever its status: the caller decides what passes.
"""

import argparse
import importlib.metadata
import json
import os
import sys
import time
from typing import Any

from httpx2 import Client
from httpx2 import Response
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server

PACKAGES = ("scim2-tester", "scim2-client", "scim2-models", "httpx2", "pydantic")


def short(value: Any, limit: int = 1500) -> str | None:
    """A readable, bounded rendering of a check's debugging data."""
    if value is None:
        return None
    if isinstance(value, Response):
        text = f"HTTP {value.status_code} {value.request.method} {value.request.url}: {value.text}"
    elif hasattr(value, "model_dump"):
        try:
            text = json.dumps(value.model_dump(mode="json", exclude_none=True), default=str)
        except Exception:  # noqa: BLE001 - a debugging aid must not fail the run
            text = repr(value)
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, default=short)
    else:
        text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="the SCIM base URL, e.g. http://127.0.0.1:8080/scim2")
    parser.add_argument("--output", required=True, help="where to write the results (JSON)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per HTTP request")
    args = parser.parse_args()

    headers = {"Accept": "application/scim+json"}
    authorization = os.environ.get("SCIM2_TESTER_AUTHORIZATION")
    if authorization:
        headers["Authorization"] = authorization

    def trace(response: Response) -> None:
        response.read()
        print(f"  {response.request.method} {response.request.url} -> {response.status_code}", file=sys.stderr)

    hooks = {"response": [trace]} if os.environ.get("SCIM2_TESTER_TRACE") == "1" else {}
    started = time.monotonic()
    with Client(base_url=args.base_url, headers=headers, timeout=args.timeout, event_hooks=hooks) as http:
        results = check_server(SyncSCIMClient(http), raise_exceptions=False)

    out = {
        "versions": {p: importlib.metadata.version(p) for p in PACKAGES},
        "baseUrl": args.base_url,
        "seconds": round(time.monotonic() - started, 1),
        "results": [
            {
                "title": r.title,
                "status": r.status.name,
                "resourceType": r.resource_type,
                "tags": sorted(r.tags),
                "reason": r.reason,
                "description": (r.description or "").strip().splitlines()[0] if r.description else None,
                "data": short(r.data),
            }
            for r in results
        ],
    }
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
