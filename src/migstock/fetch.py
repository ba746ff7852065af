"""Download raw workbooks: browser-like User-Agent, timeouts, retries with
backoff (urllib3 ``Retry``), streaming to a temporary file, content check, and
an atomic rename into the landing zone. A bad answer never replaces a good file.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from migstock.catalog import SourceFile
from migstock.errors import FetchError, InputError
from migstock.provenance import RawFile, sha256_of
from migstock.read import sniff_format

USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36 migstock/0.1"
)
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 60.0
MAX_BYTES = 200 * 1024 * 1024


def session(retries: int = 3, backoff_factor: float = 1.0) -> requests.Session:
    """A session that retries connection errors, 429 and 5xx with exponential backoff."""
    retry = Retry(
        total=retries,
        connect=retries,
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


def download(
    source: SourceFile,
    landing_dir: Path,
    http: requests.Session | None = None,
    *,
    timeout: tuple[float, float] = (CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
    max_bytes: int = MAX_BYTES,
) -> RawFile:
    """Fetch ``source.url`` into ``landing_dir/source.file_name``; raise :class:`FetchError`."""
    http = http or session()
    landing_dir.mkdir(parents=True, exist_ok=True)
    target = landing_dir / source.file_name
    hint = f"download it by hand and put it at {target}, or pass --url to point at a mirror"
    try:
        response = http.get(source.url, stream=True, timeout=timeout)
    except requests.RequestException as error:
        raise FetchError(f"{source.url} could not be reached ({_reason(error)}); {hint}") from error
    with response:
        if response.status_code != 200:
            raise FetchError(f"{source.url} answered HTTP {response.status_code}; {hint}")
        fd, tmp_name = tempfile.mkstemp(prefix=f".{source.file_name}.", dir=landing_dir)
        tmp = Path(tmp_name)
        try:
            size = 0
            with os.fdopen(fd, "wb") as out:
                for chunk in response.iter_content(chunk_size=1 << 16):
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(
                            f"{source.url} sent more than {max_bytes:,} bytes; refused; {hint}"
                        )
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            expected = response.headers.get("Content-Length")
            if expected is not None and expected.isdigit() and int(expected) != size:
                raise FetchError(
                    f"{source.url} sent {size:,} of {int(expected):,} bytes (truncated); {hint}"
                )
            with tmp.open("rb") as handle:
                sniff_format(target, handle.read(512))
            os.replace(tmp, target)
        except requests.RequestException as error:
            raise FetchError(
                f"{source.url} failed mid-download ({_reason(error)}); {hint}"
            ) from error
        except InputError as error:
            raise FetchError(f"{source.url}: {error.problem}; {hint}") from error
        finally:
            tmp.unlink(missing_ok=True)
    return RawFile(
        path=target,
        sha256=sha256_of(target),
        size_bytes=target.stat().st_size,
        origin="download",
        url=source.url,
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
        retrieved_at=datetime.now(UTC),
    )


def _reason(error: Exception) -> str:
    text = str(error)
    return text if len(text) < 200 else text[:200] + "..."
