"""Small real servers for the connection and discovery tests: each one listens on 127.0.0.1.

- `silent_port()`: accepts TCP connections (the kernel's backlog) and never says a word.
- `banner_port(banner)`: greets every connection with `banner`, like an HTTP or SMTP server would
  answer a client that expected IMAP.
- `closed_port()`: a port nothing listens on.
- `DnsServer`: a UDP DNS server answering SRV queries from a dict, built with dnspython.
- `HttpServer`: serves fixed documents by path (autoconfig), and redirects.
- `Recorder`: a listener on any loopback address that counts the connections it accepts, to
  show that a refused host was never contacted.
- `tls_smtp_server(...)`: aiosmtpd offering STARTTLS or implicit TLS with Dovecot's certificate.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from aiosmtpd.controller import Controller

from tests.fixtures.smtp import SmtpServer


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def silent_port() -> Iterator[int]:
    """Connections complete (the backlog takes them) but nothing is ever sent or read."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


Reply = Callable[[bytes], bytes | None]


def fake_imap(capabilities: str) -> Reply:
    """Answers CAPABILITY and LOGOUT like an IMAP server would; everything else is BAD."""

    def reply(line: bytes) -> bytes | None:
        tag, _, rest = line.strip().partition(b" ")
        command = rest.split(b" ")[0].upper()
        if command == b"CAPABILITY":
            return b"* CAPABILITY " + capabilities.encode() + b"\r\n" + tag + b" OK done\r\n"
        if command == b"LOGOUT":
            return None
        return tag + b" BAD not here\r\n"

    return reply


def _converse(conn: socket.socket, banner: bytes, reply: Reply | None) -> None:
    conn.sendall(banner)
    conn.settimeout(2)
    stream = conn.makefile("rb")
    try:
        while line := stream.readline():
            answer = reply(line) if reply is not None else None
            if answer is None:
                return
            conn.sendall(answer)
    except OSError:
        return


@contextmanager
def banner_port(banner: bytes, reply: Reply | None = None) -> Iterator[int]:
    """Greets with `banner`; then answers each line with `reply(line)` (None: hang up)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                _converse(conn, banner, reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


@dataclass
class DnsServer:
    """SRV answers by query name, e.g. {"_imaps._tcp.example.test.": [(0, 1, 993, "imap.x.")]}.

    Names without an entry answer NXDOMAIN, as a real zone would.
    """

    records: dict[str, list[tuple[int, int, int, str]]] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.port = int(self._socket.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _answer(self, wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text()
        self.queries.append(name)
        entries = self.records.get(name)
        if entries is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.SRV:
            texts = [f"{p} {w} {port} {target}" for p, w, port, target in entries]
            response.answer.append(
                dns.rrset.from_text_list(question.name, 300, dns.rdataclass.IN, "SRV", texts)
            )
        response.flags |= dns.flags.AA
        return response.to_wire()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self._socket.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self._socket.sendto(self._answer(wire), peer)

    def __enter__(self) -> DnsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()


class HttpServer:
    """Serves `documents` ({path: (status, body)}, query ignored); others are 404s. Records hits
    and their Host headers. `redirects` ({path: location}) answer 302 with that Location."""

    def __init__(
        self,
        documents: dict[str, tuple[int, bytes]],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        redirects: dict[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.documents = documents
        self.redirects = redirects or {}
        self.requests: list[str] = []
        self.hosts: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(self.path)
                owner.hosts.append(self.headers.get("Host", ""))
                path = self.path.partition("?")[0]
                if path in owner.redirects:
                    self.send_response(302)
                    self.send_header("Location", owner.redirects[path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status, body = owner.documents.get(path, (404, b"not found"))
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.host = host
        self._server = ThreadingHTTPServer((host, port), Handler)
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"

    def __enter__(self) -> HttpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class Recorder:
    """Listens on `host` (any of 127.0.0.0/8, or ::1) and counts accepted connections; each
    is greeted with `banner` and closed. `port=0` picks one."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, banner: bytes = b"") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        self.host = host
        self.port = int(self._listener.getsockname()[1])
        self.banner = banner
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            with conn:
                if self.banner:
                    conn.sendall(self.banner)

    def __enter__(self) -> Recorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._listener.close()


def server_tls_context(cert_path: Path) -> ssl.SSLContext:
    """A server context with the Dovecot fixture's certificate (key.pem lies next to it)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, cert_path.parent / "key.pem")
    return context


@contextmanager
def tls_smtp_server(
    cert_path: Path, *, implicit: bool, users: dict[str, str] | None = None
) -> Iterator[SmtpServer]:
    """aiosmtpd with TLS: STARTTLS offered (`implicit=False`) or TLS from the start.

    Over TLS aiosmtpd offers AUTH (and refuses everyone without an authenticator), so it
    always gets `users` to check.
    """
    server = SmtpServer(users=users or {"someone@example.test": "pw-123456"})
    context = server_tls_context(cert_path)
    options: dict[str, object] = {"ssl_context": context} if implicit else {"tls_context": context}
    server.controller = Controller(
        server,
        hostname="127.0.0.1",
        port=server.port,
        server_hostname="localhost",
        authenticator=server._authenticate,
        **options,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
