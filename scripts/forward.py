#!/usr/bin/env python3
"""A TCP forwarder for `make run` (a dev tool; nothing ships it).

QEMU's user network forwards the host port through a socket that listens
with a backlog of one: a burst of new connections overflows it and the
clients wait for SYN retries of a second and more. `make run` as root puts
the guest on a tap device in a network namespace instead, and this relays
127.0.0.1:PORT (in the host's namespace) to the guest's port 80 (in the
guest's namespace) with a real listen backlog.

The listening socket is made in the namespace this starts in; with
`--netns NS` the program then runs itself again under `ip netns exec NS`,
handing the socket down as an open file descriptor, so that its
connections to the guest are made inside NS (same process id throughout:
exec, not fork). SIGINT and SIGTERM end it quietly.

Usage: forward.py --listen 127.0.0.1:8888 --target 10.0.3.15:80 [--netns NS]
"""
import argparse
import asyncio
import os
import signal
import socket
import sys

# The listen backlog asked for (the kernel caps it at net.core.somaxconn).
LISTEN_BACKLOG = 4096
# Connections relayed at once; past it new ones are closed at once (each
# takes two descriptors; keep well below the open-file limit).
MAX_CONNECTIONS = 2048
# How long a connection to the guest may take before the client is dropped.
CONNECT_TIMEOUT_S = 5.0
# A side stops reading while the other side has this much unsent.
HIGH_WATER_BYTES = 256 * 1024


class Half(asyncio.Protocol):
    """One side of a relayed connection; `peer` is the other side's Half."""

    def __init__(self, relay, accepted):
        self.relay, self.accepted = relay, accepted
        self.transport = None
        self.peer = None
        self.eof = False

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.set_write_buffer_limits(high=HIGH_WATER_BYTES)
        if self.accepted:
            self.relay.start()

    def data_received(self, data):
        self.peer.transport.write(data)

    def eof_received(self):
        # Pass the half-close on; the connection ends when both sides did.
        self.eof = True
        if self.peer.transport.can_write_eof():
            self.peer.transport.write_eof()
        if self.peer.eof:
            self.relay.close()
        return True

    def pause_writing(self):
        self.peer.transport.pause_reading()

    def resume_writing(self):
        self.peer.transport.resume_reading()

    def connection_lost(self, exc):
        self.relay.close()


class Relay:
    """A client connection and its connection to the guest."""

    open = 0

    def __init__(self, loop, target):
        self.loop, self.target = loop, target
        self.client = Half(self, accepted=True)
        self.guest = Half(self, accepted=False)
        self.client.peer, self.guest.peer = self.guest, self.client
        self.closed = False
        Relay.open += 1

    def start(self):
        """Reading from the client waits until the guest side is connected."""
        if Relay.open > MAX_CONNECTIONS:
            self.close()
            return
        self.client.transport.pause_reading()
        self.loop.create_task(self.connect())

    async def connect(self):
        try:
            await asyncio.wait_for(
                self.loop.create_connection(lambda: self.guest, *self.target), CONNECT_TIMEOUT_S)
        except (OSError, asyncio.TimeoutError):
            self.close()
            return
        if self.closed:
            self.guest.transport.close()
            return
        self.client.transport.resume_reading()

    def close(self):
        if self.closed:
            return
        self.closed = True
        Relay.open -= 1
        for half in (self.client, self.guest):
            if half.transport is not None:
                half.transport.close()


def serve(listener, target):
    loop = asyncio.new_event_loop()

    def client():
        return Relay(loop, target).client

    stop = loop.create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))

    async def main():
        server = await loop.create_server(client, sock=listener, backlog=LISTEN_BACKLOG)
        await stop
        server.close()
    loop.run_until_complete(main())


def hostport(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", type=hostport, help="HOST:PORT to listen on")
    ap.add_argument("--listen-fd", type=int, help="(internal) an inherited listening socket")
    ap.add_argument("--target", type=hostport, required=True, help="HOST:PORT to relay to")
    ap.add_argument("--netns", help="make the connections to the target in this network namespace")
    a = ap.parse_args()
    if a.listen_fd is not None:
        listener = socket.socket(fileno=a.listen_fd)
    else:
        if a.listen is None:
            ap.error("--listen is required")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind(a.listen)
        except OSError as e:
            sys.exit(f"forward: cannot listen on {a.listen[0]}:{a.listen[1]}: {e.strerror}")
        listener.listen(LISTEN_BACKLOG)
    if a.netns:
        listener.set_inheritable(True)
        os.execvp("ip", ["ip", "netns", "exec", a.netns, sys.executable, os.path.abspath(__file__),
                         "--listen-fd", str(listener.fileno()),
                         "--target", "%s:%d" % a.target])
    listener.setblocking(False)
    serve(listener, a.target)


if __name__ == "__main__":
    main()
