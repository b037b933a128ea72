#!/usr/bin/env python3
# A symbol server for tests/integration/symstore_http.c, on 127.0.0.1.
#
#   symstore_server.py ROOT PORTFILE LOGFILE
#
# Serves the folder ROOT.  The first path component picks a behaviour:
#   /s/REST      the file ROOT/REST (404 when absent)
#   /html/REST   200 with an HTML page, whatever REST is (a dead server)
#   /redir/REST  302 to /s/REST
#   /loop/REST   302 to itself, forever
#   /trunc/REST  the file's headers and half its bytes, then the
#                connection closes
#   /slow/REST   headers, then nothing for a long time
#   /e500/REST   500
# It is an HTTP proxy too: a request for http://ANYHOST/MODE/REST is
# answered as /MODE/REST would be, and logged with its whole URL.
# Every request line is appended to LOGFILE (flushed), so the test can
# tell which requests were made and that none was.  The port, chosen by
# the kernel, is written to PORTFILE once the server listens.
import http.server
import os
import socketserver
import sys
import time

ROOT, PORTFILE, LOGFILE = sys.argv[1], sys.argv[2], sys.argv[3]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body=b"", ctype="application/octet-stream",
              length=None, extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length",
                         str(len(body) if length is None else length))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self):
        with open(LOGFILE, "a") as log:
            log.write(self.path + "\n")
        path = self.path
        # As an HTTP proxy: the request names the whole URL, and the
        # store it names is served from here (the log keeps the URL).
        if path.startswith("http://"):
            path = "/" + path[len("http://"):].split("/", 1)[-1]
        parts = path.split("/", 2)
        mode = parts[1] if len(parts) > 1 else ""
        rest = parts[2] if len(parts) > 2 else ""
        path = os.path.realpath(os.path.join(ROOT, rest))
        inside = path.startswith(os.path.realpath(ROOT) + os.sep)
        if mode == "html":
            self.reply(200, b"<html><body>Welcome</body></html>\n",
                       "text/html")
        elif mode == "redir":
            self.reply(302, extra={"Location": "/s/" + rest})
        elif mode == "loop":
            self.reply(302, extra={"Location": self.path})
        elif mode == "e500":
            self.reply(500, b"oops")
        elif not inside or not os.path.isfile(path):
            self.reply(404, b"not here", "text/plain")
        elif mode == "s":
            with open(path, "rb") as f:
                self.reply(200, f.read())
        elif mode == "trunc":
            with open(path, "rb") as f:
                data = f.read()
            self.reply(200, data[: len(data) // 2], length=len(data))
            self.wfile.flush()
            self.connection.close()
        elif mode == "slow":
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.flush()
            time.sleep(60)
        else:
            self.reply(404)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
