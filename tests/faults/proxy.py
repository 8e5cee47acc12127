#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for the S3 fault tests, on 127.0.0.1 only.

    proxy.py LISTEN_PORT UPSTREAM_PORT RULES_FILE

Every request goes to the upstream S3-compatible server on 127.0.0.1:UPSTREAM_PORT, one
connection per request (the response says `Connection: close`). RULES_FILE (JSON, read again
whenever it changes, which resets the counts) lists faults:

    [{"path": "part-3", "method": "GET", "fault": "reset", "times": 2}, ...]

A rule applies to requests whose path contains `path` (and whose method is `method`, if
given), to the first `times` of them (-1: all). Faults:

- `reset`: the response headers and half the body, then the connection is reset;
- `truncate`: the headers (with the full Content-Length) and half the body, then a clean close;
- `slowdown`: `503 Slow Down` with S3's SlowDown error;
- `error`: `500 Internal Server Error` with S3's InternalError;
- `stall`: nothing for `seconds` (default 5), then the real response;
- `delay`: `seconds` before the request is forwarded (for slow, healthy servers).

Each request is logged to stderr as `METHOD PATH -> fault SIGNER inflight=N` (SIGNER:
`key=ACCESS_KEY_ID`, with `+token` for temporary credentials, or `unsigned`; N: requests being
answered, this one included; an STS AssumeRole call's path ends in ` AssumeRole`), and its end as
`~ MS ms` (how long it took, from the request read to the answer written); a listing's answer adds a line
`= N keys M prefixes` (objects and common prefixes in it).
"""

import asyncio
import json
import os
import sys
import time

LISTEN, UPSTREAM, RULES = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

state = {"mtime": None, "rules": [], "counts": [], "inflight": 0}


def rules():
    try:
        mtime = os.stat(RULES).st_mtime_ns
    except FileNotFoundError:
        return []
    if mtime != state["mtime"]:
        with open(RULES) as f:
            state["rules"] = json.load(f)
        state["counts"] = [0] * len(state["rules"])
        state["mtime"] = mtime
    return state["rules"]


def fault_for(method, path):
    for i, rule in enumerate(rules()):
        if rule.get("method", method) != method or rule.get("path", "") not in path:
            continue
        times = rule.get("times", -1)
        if times >= 0 and state["counts"][i] >= times:
            continue
        state["counts"][i] += 1
        return rule
    return None


def s3_error(status, reason, code):
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
        f"<Message>injected by the fault proxy</Message></Error>"
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    return head + body


async def read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    length = 0
    kept = [lines[0]]
    signer, token = "unsigned", ""
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
        if name.lower() == "authorization" and "Credential=" in value:
            signer = "key=" + value.split("Credential=", 1)[1].split("/", 1)[0]
        if name.lower() == "x-amz-security-token":
            token = "+token"
        if name.lower() == "connection":
            continue
        kept.append(line)
    body = await reader.readexactly(length) if length else b""
    kept.append("Connection: close")
    request = ("\r\n".join(kept) + "\r\n\r\n").encode("latin-1") + body
    if method == "POST" and b"Action=AssumeRole" in body:
        path += " AssumeRole"
    return method, path, signer + token, request


async def forward(request):
    reader, writer = await asyncio.open_connection("127.0.0.1", UPSTREAM)
    writer.write(request)
    await writer.drain()
    response = await reader.read()
    writer.close()
    return response


async def handle(reader, writer):
    counted = False
    started = None
    try:
        while True:
            try:
                method, path, signer, request = await read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                return
            rule = fault_for(method, path)
            fault = rule["fault"] if rule else None
            state["inflight"] += 1
            counted = True
            started = time.monotonic()
            print(
                f"{method} {path} -> {fault or 'ok'} {signer} inflight={state['inflight']}",
                file=sys.stderr,
                flush=True,
            )
            if fault == "delay":
                await asyncio.sleep(rule.get("seconds", 0.2))
            if fault == "slowdown":
                writer.write(s3_error(503, "Slow Down", "SlowDown"))
            elif fault == "error":
                writer.write(s3_error(500, "Internal Server Error", "InternalError"))
            else:
                response = await forward(request)
                if "list-type=2" in path:
                    keys = response.count(b"<Contents>")
                    prefixes = response.count(b"<CommonPrefixes>")
                    print(f"= {keys} keys {prefixes} prefixes", file=sys.stderr, flush=True)
                if fault == "stall":
                    await asyncio.sleep(rule.get("seconds", 5))
                if fault in ("reset", "truncate"):
                    split = response.find(b"\r\n\r\n") + 4
                    body = response[split:]
                    writer.write(response[:split] + body[: len(body) // 2])
                    await writer.drain()
                    if fault == "reset":
                        writer.transport.abort()
                        return
                    writer.close()
                    return
                writer.write(response)
            await writer.drain()
            writer.close()
            return
    except (ConnectionError, asyncio.CancelledError):
        return
    finally:
        if counted:
            state["inflight"] -= 1
            ms = (time.monotonic() - started) * 1000
            print(f"~ {ms:.1f} ms", file=sys.stderr, flush=True)
        if not writer.is_closing():
            writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
