"""A TCP relay that holds every chunk for half a round trip in each direction: a Vault some network away.

The benchmark's OpenBao answers on loopback at once, which hides what a
first run costs in round trips to a real Vault. The relay runs on its own event
loop in a background thread of the benchmark, so its CPU is counted for
neither the tool nor the floor (as the local OpenBao's is not).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress

__all__ = ["delayed_relay"]

_CHUNK = 65536


async def _forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy one direction, each chunk `delay` seconds after it arrived, in order (end of stream too)."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read() -> None:
        try:
            while data := await reader.read(_CHUNK):
                await queue.put((time.monotonic(), data))
        finally:
            # End of stream, or a connection reset: either way the writer ends too.
            queue.put_nowait((time.monotonic(), b""))

    async def write() -> None:
        while True:
            arrived, data = await queue.get()
            await asyncio.sleep(max(0.0, arrived + delay - time.monotonic()))
            if not data:
                with suppress(OSError):
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    await asyncio.gather(read(), write(), return_exceptions=True)


def _handler(
    host: str, port: int, delay: float
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_forward(client_reader, upstream_writer, delay),
                             _forward(upstream_reader, client_writer, delay), return_exceptions=True)
        client_writer.close()
        upstream_writer.close()

    return handle


@contextmanager
def delayed_relay(host: str, port: int, *, round_trip_ms: float) -> Iterator[str]:
    """`http://127.0.0.1:<port>` relaying to `host:port` with `round_trip_ms` added to every round trip."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    address: list[str] = []

    async def serve() -> None:
        server = await asyncio.start_server(_handler(host, port, round_trip_ms / 2000), "127.0.0.1", 0)
        address.append(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
        started.set()
        async with server:
            await server.serve_forever()

    def run() -> None:
        with suppress(asyncio.CancelledError):
            loop.run_until_complete(serve())
        # The connections still open end with the loop, not after it.
        loop.run_until_complete(asyncio.gather(*asyncio.all_tasks(loop), return_exceptions=True))
        loop.close()

    def stop() -> None:
        for task in asyncio.all_tasks():
            task.cancel()

    thread = threading.Thread(target=run, name="vault-latency", daemon=True)
    thread.start()
    started.wait(10)
    if not address:
        raise RuntimeError("the Vault latency relay did not start")
    try:
        yield address[0]
    finally:
        loop.call_soon_threadsafe(stop)
        thread.join(10)
