"""The platform's one outbound HTTP client: every request the platform makes goes through here.

It owns the timeouts, the User-Agent, TLS options (verification, imported certificates), connection
reuse (one urllib3 ``PoolManager`` per thread, pooled per host and TLS policy) and the SSRF guard. The
guard runs inside the urllib3 connection on the resolved socket address just before ``connect``, so
names resolving to private addresses, DNS rebinding and redirects are all caught. Nothing that would
be refused ever reaches the network.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3
from django.conf import settings
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    InsecureRequestWarning,
    LocationValueError,
    NameResolutionError,
    NewConnectionError,
    SSLError,
)
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError
from urllib3.util import parse_url
from urllib3.util.connection import allowed_gai_family
from urllib3.util.timeout import _DEFAULT_TIMEOUT

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# A worker thread delivers one request at a time, so a few connections per host suffice; the
# number of host pools kept alive per thread is what matters for keep-alive across destinations.
POOL_HOSTS = 20
POOL_CONNECTIONS_PER_HOST = 4
_READ_CHUNK = 16 * 1024

# verify_ssl=False is a per-destination decision, not something to warn about on every request.
warnings.filterwarnings("ignore", category=InsecureRequestWarning)


@dataclass(frozen=True)
class Outcome:
    """What happened to one request (after redirects). ``ok`` means a 2xx answer."""

    ok: bool
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    elapsed_ms: int = 0
    error_kind: str | None = None
    error: str = ""
    remote_address: str | None = None


class AddressBlocked(Exception):
    """A host resolved only to addresses outside the public internet (and the allowed networks)."""

    def __init__(self, host: str, address: str) -> None:
        self.host = host
        self.address = address
        super().__init__(f"Blocked: {host} resolves to {address}, which is not a public address")


class CertificateFetchError(Exception):
    """fetch_certificate could not get the server's certificate; ``error_kind`` as in Outcome."""

    def __init__(self, message: str, *, error_kind: str) -> None:
        self.error_kind = error_kind
        super().__init__(message)


class _BlockedConnectionError(NewConnectionError):
    """AddressBlocked as urllib3 expects a connection failure, so it is neither retried nor rewrapped."""

    def __init__(self, conn: HTTPConnection, blocked: AddressBlocked) -> None:
        self.blocked = blocked
        super().__init__(conn, str(blocked))


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4-mapped (::ffff:a.b.c.d) and 6to4 (2002:ab.cd::) addresses lead to an IPv4 address.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return _is_public(embedded)
    # is_global excludes loopback, private, link-local (metadata), 100.64/10, unspecified and most
    # reserved ranges; multicast and the rest of reserved count as global, hence the extra checks.
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def is_allowed(address: str) -> bool:
    """Whether deliveries may connect to this IP address: a public one, or one in
    OUTBOUND_ALLOWED_NETWORKS."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if _is_public(ip):
        return True
    candidates = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        candidates.append(ip.ipv4_mapped)
    # Read at call time so override_settings works; the list is short.
    networks = [ipaddress.ip_network(n, strict=False) for n in settings.OUTBOUND_ALLOWED_NETWORKS]
    return any(c.version == n.version and c in n for c in candidates for n in networks)


def guarded_connect(
    host: str,
    port: int,
    timeout: Any,
    socket_options: Any = None,
) -> tuple[socket.socket, str]:
    """Resolve ``host`` and connect to its first allowed address; return the socket and that address.

    Raises AddressBlocked when every resolved address is refused, socket.gaierror when the name
    does not resolve, and OSError when no allowed address accepts the connection.
    """
    host = host.strip("[]")
    infos = socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)
    if not infos:
        raise OSError(f"{host} resolves to no address")
    allowed = [info for info in infos if is_allowed(info[4][0])]
    if not allowed:
        raise AddressBlocked(host, infos[0][4][0])
    error: OSError | None = None
    for family, socktype, proto, _canonname, sockaddr in allowed:
        sock = socket.socket(family, socktype, proto)
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)
            if timeout is not _DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock, sockaddr[0]
    assert error is not None
    raise error


class _GuardedConnectionMixin:
    """Replaces urllib3's resolve-and-connect with guarded_connect and remembers the peer address."""

    remote_address: str | None = None

    def _new_conn(self) -> socket.socket:
        try:
            sock, self.remote_address = guarded_connect(
                self._dns_host, self.port, self.timeout, self.socket_options
            )
        except AddressBlocked as exc:
            raise _BlockedConnectionError(self, exc) from exc
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        except TimeoutError as exc:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc
        return sock


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


_local = threading.local()


def _pools() -> urllib3.PoolManager:
    """This thread's connection pools (keep-alive per host and TLS policy), guarded connections
    only. urllib3 directly: requests' session machinery cost more CPU than the request itself."""
    pools = getattr(_local, "pools", None)
    if pools is None:
        pools = _local.pools = urllib3.PoolManager(num_pools=POOL_HOSTS, maxsize=POOL_CONNECTIONS_PER_HOST)
        pools.pool_classes_by_scheme = {
            "http": _GuardedHTTPConnectionPool,
            "https": _GuardedHTTPSConnectionPool,
        }
    return pools


@functools.lru_cache(maxsize=64)
def _ssl_context(verify: bool, trusted_certificates_pem: tuple[str, ...]) -> ssl.SSLContext:
    """One context per TLS policy (cached, so pools keyed on it are reused across calls)."""
    if not verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    context = ssl.create_default_context()  # system CA store, hostname checks on
    context.load_verify_locations(cafile=certifi.where())  # the Mozilla bundle, as most HTTP clients
    if trusted_certificates_pem:
        context.load_verify_locations(cadata="\n".join(trusted_certificates_pem))
        # An imported certificate may be a leaf issued by a private CA: trust it as an anchor.
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def _read_limited(response: urllib3.BaseHTTPResponse) -> bytes:
    """Read at most OUTBOUND_MAX_RESPONSE_BYTES; a longer body is cut and its connection dropped."""
    limit = settings.OUTBOUND_MAX_RESPONSE_BYTES
    try:
        content = response.read(limit + 1)
        if len(content) > limit:
            response.close()
        return content[:limit]
    finally:
        response.release_conn()


class _InvalidURL(ValueError):
    pass


def _classify(exc: Exception) -> tuple[str, str, str | None]:
    """(error_kind, human text, blocked address) for an exception raised while sending."""
    if isinstance(exc, (_InvalidURL, LocationValueError)):
        return "invalid_url", f"Invalid URL: {exc}", None
    if not isinstance(exc, HTTPError):
        return "invalid_request", f"Invalid request: {exc}", None
    if isinstance(exc, _BlockedConnectionError):
        return "ssrf_blocked", str(exc.blocked), exc.blocked.address
    detail = str(exc.__cause__ or exc)
    if isinstance(exc, NameResolutionError):
        return "dns", f"Could not resolve {exc.conn.host}: {detail}", None
    if isinstance(exc, SSLError):
        return "tls", f"TLS error: {detail}", None
    # urllib3's NewConnectionError is a ConnectTimeoutError: only a real timeout is "timeout".
    if isinstance(exc, Urllib3TimeoutError) and not isinstance(exc, NewConnectionError):
        return "timeout", f"Timed out: {detail}", None
    return "connection", f"Connection failed: {detail}", None


def _redirect_request(
    method: str, url: str, location: str, status: int, headers: dict[str, str], body: bytes
) -> tuple[str, str, dict[str, str], bytes]:
    next_url = urljoin(url, location)
    if status in (301, 302, 303) and method != "HEAD":
        method, body = "GET", b""
        headers = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
    if urlsplit(next_url).netloc != urlsplit(url).netloc:
        # Credentials are meant for the destination's host, not wherever it redirects to.
        headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    return method, next_url, headers, body


def send(
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    verify_ssl: bool = True,
    trusted_certificates_pem: list[str] | tuple[str, ...] = (),
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
) -> Outcome:
    """Send one request, following up to MAX_REDIRECTS redirects, and describe what happened.

    Never raises for network, TLS, SSRF or URL problems: those come back as a failed Outcome.
    ``trusted_certificates_pem`` are trusted in addition to the system CAs (verify_ssl=True only).
    """
    timeout = (
        settings.OUTBOUND_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout,
        settings.OUTBOUND_READ_TIMEOUT if read_timeout is None else read_timeout,
    )
    headers = {"User-Agent": settings.OUTBOUND_USER_AGENT, **headers}
    started = time.monotonic()
    remote_address: str | None = None
    status: int | None = None

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        context = _ssl_context(verify_ssl, tuple(trusted_certificates_pem) if verify_ssl else ())
    except ssl.SSLError as exc:
        return Outcome(ok=False, error_kind="tls", error=f"Invalid trusted certificate: {exc}")

    timeout = urllib3.Timeout(connect=timeout[0], read=timeout[1])
    try:
        for hop in range(MAX_REDIRECTS + 1):
            status = remote_address = None  # a failure describes the hop that failed
            target = parse_url(url)
            if target.scheme not in ("http", "https") or not target.host:
                raise _InvalidURL(f"{url!r} is not an absolute http(s) URL")
            pool = _pools().connection_from_url(
                url, pool_kwargs={"ssl_context": context} if target.scheme == "https" else None
            )
            response = pool.urlopen(
                method,
                target.request_uri,
                body=body or None,
                headers=headers,
                retries=False,
                redirect=False,
                assert_same_host=False,
                timeout=timeout,
                preload_content=False,
            )
            status = response.status
            remote_address = getattr(response.connection, "remote_address", None)
            content = _read_limited(response)
            location = response.headers.get("Location")
            if status not in REDIRECT_STATUSES or not location:
                return Outcome(
                    ok=200 <= status < 300,
                    status=status,
                    headers=dict(response.headers),
                    body=content,
                    elapsed_ms=elapsed_ms(),
                    remote_address=remote_address,
                )
            if hop < MAX_REDIRECTS:
                method, url, headers, body = _redirect_request(method, url, location, status, headers, body)
    except (HTTPError, ValueError) as exc:
        kind, text, blocked_address = _classify(exc)
        return Outcome(
            ok=False,
            status=status,
            elapsed_ms=elapsed_ms(),
            error_kind=kind,
            error=text,
            remote_address=blocked_address or remote_address,
        )
    return Outcome(
        ok=False,
        status=status,
        elapsed_ms=elapsed_ms(),
        error_kind="too_many_redirects",
        error=f"More than {MAX_REDIRECTS} redirects",
        remote_address=remote_address,
    )


def fetch_certificate(host: str, port: int) -> str:
    """The PEM certificate a TLS server presents, unverified, for importing it as trusted.

    Connects through the same SSRF guard as send(); raises CertificateFetchError on failure.
    """
    host = host.strip("[]")
    timeout = settings.OUTBOUND_CONNECT_TIMEOUT
    try:
        sock, _address = guarded_connect(host, port, timeout)
    except AddressBlocked as exc:
        raise CertificateFetchError(str(exc), error_kind="ssrf_blocked") from exc
    except socket.gaierror as exc:
        raise CertificateFetchError(f"Could not resolve {host}: {exc}", error_kind="dns") from exc
    except TimeoutError as exc:
        raise CertificateFetchError(f"Connection to {host}:{port} timed out", error_kind="timeout") from exc
    except OSError as exc:
        raise CertificateFetchError(
            f"Could not connect to {host}:{port}: {exc}", error_kind="connection"
        ) from exc

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # we are fetching the certificate in order to trust it
    try:
        with context.wrap_socket(sock, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
    except TimeoutError as exc:
        raise CertificateFetchError(
            f"TLS handshake with {host}:{port} timed out", error_kind="timeout"
        ) from exc
    except ssl.SSLError as exc:
        raise CertificateFetchError(
            f"TLS handshake with {host}:{port} failed: {exc}", error_kind="tls"
        ) from exc
    except OSError as exc:
        raise CertificateFetchError(
            f"Connection to {host}:{port} failed: {exc}", error_kind="connection"
        ) from exc
    finally:
        sock.close()
    if not der:
        raise CertificateFetchError(f"{host}:{port} presented no certificate", error_kind="tls")
    return ssl.DER_cert_to_PEM_cert(der)
