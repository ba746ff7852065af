"""Download raw workbooks into the landing zone.

Browser-like User-Agent, connect and read timeouts, retries with exponential
backoff on connection errors, 429 and 5xx (urllib3 ``Retry``), conditional
requests (ETag / Last-Modified) so that an unchanged file costs one request,
streaming to a temporary file with a size cap, a content check, and an atomic
rename. A bad answer never replaces a good file: the earlier file stays as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.retry import Retry

from migstock.acquire.provenance import RawFile, local_file, read_sidecar, sha256_of, write_sidecar
from migstock.catalog import SourceFile
from migstock.errors import FetchError, InputError

USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36 migstock/0.1"
)
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 60.0
MAX_BYTES = 200 * 1024 * 1024  # the largest official workbook is about 6 MB

Progress = Callable[[int, int | None], None]  # bytes so far, total if known


@dataclass(frozen=True)
class Fetched:
    """A landing-zone file after a download attempt; ``changed`` is False on 304."""

    raw: RawFile
    changed: bool


def session(retries: int = 3, backoff_factor: float = 1.0) -> requests.Session:
    """A session that retries 429, 5xx and broken reads with exponential backoff.

    A host that cannot be reached at all (DNS failure, connection refused, connect
    timeout) is not retried: it is tried once per run (see :mod:`migstock.acquire`).
    """
    retry = Retry(
        total=retries,
        connect=0,
        read=retries,
        status=retries,
        backoff_factor=backoff_factor,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=("GET", "HEAD"),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    http = requests.Session()
    http.headers.update({"User-Agent": USER_AGENT, "Accept": "*/*"})
    adapter = HTTPAdapter(max_retries=retry)
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    return http


def conditional_headers(target: Path, known: RawFile | None = None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since for a file we downloaded and still have intact.

    ``known``: the file as this run's scan found it (hashed and checked against its
    sidecar already); without it, the file is hashed here."""
    if known is None:
        record = read_sidecar(target)
        if not target.exists() or not record or record.get("sha256") != sha256_of(target):
            return {}
        etag, last_modified = record.get("etag"), record.get("last_modified")
    else:
        etag, last_modified = known.etag, known.last_modified
    headers = {}
    if etag:
        headers["If-None-Match"] = str(etag)
    if last_modified:
        headers["If-Modified-Since"] = str(last_modified)
    return headers


def download(
    source: SourceFile,
    landing_dir: Path,
    http: requests.Session | None = None,
    *,
    timeout: tuple[float, float] = (CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
    max_bytes: int = MAX_BYTES,
    progress: Progress | None = None,
    known: RawFile | None = None,
) -> Fetched:
    """Fetch ``source.url`` into ``landing_dir/source.file_name``; raise :class:`FetchError`.
    ``known``: the local copy as this run's scan found it (its conditional request needs
    no second hash)."""
    http = http or session()
    landing_dir.mkdir(parents=True, exist_ok=True)
    target = landing_dir / source.file_name
    hint = (
        f"download it by hand and save it as {target}, or point --url "
        f"{source.revision}/{source.dataset}=URL at a mirror"
    )
    headers = conditional_headers(target, known)
    try:
        response = http.get(source.url, stream=True, timeout=timeout, headers=headers)
    except requests.RequestException as error:
        if _no_connection(error):
            raise FetchError(
                f"{source.url} could not be reached ({_reason(error)}); {hint}", unreachable=True
            ) from None
        raise FetchError(
            f"{source.url} failed ({_reason(error)}); {hint}", transient=True
        ) from None
    with response:
        if response.status_code == 304 and headers:
            return Fetched(local_file(target, "download"), changed=False)
        if response.status_code != 200:
            raise FetchError(
                f"{source.url} answered HTTP {response.status_code}; {hint}",
                transient=response.status_code in (408, 429) or response.status_code >= 500,
            )
        _stream_to(target, response, source.url, hint, max_bytes, progress)
    raw = RawFile(
        path=target,
        sha256=sha256_of(target),
        size_bytes=target.stat().st_size,
        origin="download",
        url=source.url,
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
        retrieved_at=datetime.now(UTC),
    )
    write_sidecar(raw, source.revision, source.dataset)
    return Fetched(raw, changed=True)


def _stream_to(
    target: Path,
    response: requests.Response,
    url: str,
    hint: str,
    max_bytes: int,
    progress: Progress | None,
) -> None:
    """Stream the body to a temporary file, check it, then rename it over ``target``."""
    from migstock.parse.read import check_zip, sniff_format  # pandas: only once a body arrives

    declared = response.headers.get("Content-Length")
    expected = int(declared) if declared and declared.isdigit() else None
    if expected is not None and expected > max_bytes:
        raise FetchError(f"{url} announces {expected:,} bytes, over the {max_bytes:,} cap; {hint}")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            for chunk in response.iter_content(chunk_size=1 << 16):
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"{url} sent more than {max_bytes:,} bytes; refused; {hint}")
                out.write(chunk)
                if progress:
                    progress(size, expected)
            out.flush()
            os.fsync(out.fileno())
        if expected is not None and size != expected:
            raise FetchError(
                f"{url} sent {size:,} of {expected:,} bytes (truncated); {hint}", transient=True
            )
        with tmp.open("rb") as handle:
            kind = sniff_format(target, handle.read(512))
        wanted = target.suffix.lower().lstrip(".")
        if kind != wanted:
            raise FetchError(
                f"{url} sent {'text' if kind == 'csv' else 'an .' + kind + ' file'}, "
                f"not the .{wanted} workbook; the earlier file, if any, is kept; {hint}"
            )
        if kind == "xlsx":
            check_zip(tmp)
        os.replace(tmp, target)
    except requests.RequestException as error:
        raise FetchError(
            f"{url} failed mid-download ({_reason(error)}); {hint}", transient=True
        ) from None
    except InputError as error:
        raise FetchError(f"{url}: {error.problem}; the earlier file, if any, is kept") from None
    finally:
        tmp.unlink(missing_ok=True)


def _causes(error: BaseException) -> list[BaseException]:
    """The chain of wrapped errors, outermost first (requests wraps urllib3 wraps socket)."""
    chain = [error]
    while True:
        inner = getattr(chain[-1], "reason", None) or chain[-1].__context__
        if not isinstance(inner, BaseException) or inner in chain:
            return chain
        chain.append(inner)


def _no_connection(error: BaseException) -> bool:
    """No connection at all (name resolution, refused, connect timeout), not a slow reply."""
    return any(isinstance(c, NewConnectionError | ConnectTimeoutError) for c in _causes(error))


def _reason(error: Exception) -> str:
    """The innermost cause, e.g. 'Name or service not known', not urllib3's wrapping."""
    cause = _causes(error)[-1]
    text = str(cause) or type(cause).__name__
    return text if len(text) < 160 else text[:160] + "..."
