#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""An HTTP/2 client (h2c, prior knowledge) from Debian's python3-h2: sends
each PATH as a GET on one connection, one after the other, and prints, per
request, its status and its own timing (from sending the request's HEADERS
to receiving the END_STREAM), as JSON lines.

A PATH "wait:FILE" sends nothing: the client waits there until FILE exists
(a connection open before an agent that starts meanwhile).

usage: h2_client.py PORT PATH..."""
import json
import os
import socket
import sys
import time

import h2.config
import h2.connection
import h2.events


def main():
    port, paths = int(sys.argv[1]), sys.argv[2:]
    sock = socket.create_connection(("127.0.0.1", port))
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    for path in paths:
        if path.startswith("wait:"):
            deadline = time.monotonic() + 60
            while not os.path.exists(path[5:]) and time.monotonic() < deadline:
                time.sleep(0.05)
            continue
        stream = conn.get_next_available_stream_id()
        conn.send_headers(stream, [(":method", "GET"), (":path", path), (":scheme", "http"),
                                   (":authority", f"127.0.0.1:{port}")], end_stream=True)
        t0 = time.monotonic()
        sock.sendall(conn.data_to_send())
        status, done = None, False
        while not done:
            data = sock.recv(65536)
            if not data:
                raise SystemExit("connection closed")
            t = time.monotonic()
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.ResponseReceived):
                    status = int(dict(ev.headers)[b":status"])
                elif isinstance(ev, h2.events.DataReceived):
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                if isinstance(ev, h2.events.StreamEnded) and ev.stream_id == stream:
                    done = True
            sock.sendall(conn.data_to_send())
        print(json.dumps({"path": path, "status": status, "seconds": t - t0}), flush=True)
    conn.close_connection()
    sock.sendall(conn.data_to_send())
    sock.close()


if __name__ == "__main__":
    main()
