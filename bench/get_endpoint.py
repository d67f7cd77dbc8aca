#!/usr/bin/env python3
"""A local SSM endpoint that answers every GetCommandInvocation at once with one small Success
record: one `ssmres get` against it is start-up, configuration, one call and printing. Used by
bench/release-profile and bench/lean-build. Serves on 127.0.0.1:PORT (argv[1]) until killed."""

import http.server
import json
import sys

BODY = json.dumps({
    "CommandId": "8d5f3b4e-2a1c-4c3e-9f7a-1b2c3d4e5f60", "InstanceId": "i-0123456789abcdef0",
    "Status": "Success", "StatusDetails": "Success", "ResponseCode": 0,
    "StandardOutputContent": "ok\n", "StandardErrorContent": "",
}).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
