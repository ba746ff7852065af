"""Downloads against a real HTTP server on 127.0.0.1 (pytest-httpserver), no mocks.

Each case checks the outcome and that the landing zone holds no partial or
wrong file, and that an earlier good file is intact.
"""

import hashlib
import io
import threading
import zipfile
from pathlib import Path

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from migstock.acquire.fetch import download, session
from migstock.acquire.provenance import read_sidecar, sidecar_path
from migstock.catalog import SourceFile
from migstock.errors import FetchError

NAME = "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx"


@pytest.fixture(scope="module")
def workbook(official_dir: Path) -> bytes:
    return (official_dir / NAME).read_bytes()


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    return tmp_path / "raw"


def _source(httpserver: HTTPServer, path: str = "/files/totals.xlsx") -> SourceFile:
    return SourceFile(
        2020, "destination_totals", NAME, httpserver.url_for(path), "destination_totals"
    )


def _fast() -> requests.Session:
    return session(retries=3, backoff_factor=0.01)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _only_good_file(landing: Path, good: bytes | None) -> None:
    """No temporary or partial file; the good file, if any, byte-identical."""
    names = sorted(p.name for p in landing.iterdir()) if landing.exists() else []
    expected = sorted([NAME, NAME + ".provenance.json"]) if good is not None else []
    assert names == expected
    if good is not None:
        assert (landing / NAME).read_bytes() == good


@pytest.fixture
def earlier_good_file(httpserver: HTTPServer, landing: Path, workbook: bytes) -> bytes:
    """A good download already in the landing zone (then the server is reset)."""
    httpserver.expect_oneshot_request("/files/totals.xlsx").respond_with_data(
        workbook, content_type="application/octet-stream", headers={"ETag": '"v1"'}
    )
    download(_source(httpserver), landing, _fast())
    httpserver.clear()
    return workbook


def test_200_downloads_with_provenance(
    httpserver: HTTPServer, landing: Path, workbook: bytes
) -> None:
    httpserver.expect_request("/files/totals.xlsx").respond_with_data(
        workbook, headers={"ETag": '"abc"', "Last-Modified": "Tue, 15 Dec 2020 10:00:00 GMT"}
    )
    fetched = download(_source(httpserver), landing, _fast())
    assert fetched.changed
    assert fetched.raw.sha256 == hashlib.sha256(workbook).hexdigest()
    record = read_sidecar(landing / NAME)
    assert record["url"] == httpserver.url_for("/files/totals.xlsx")
    assert record["etag"] == '"abc"' and record["revision"] == 2020
    assert record["licence"] == "CC BY 3.0 IGO" and "Migrant Stock 2020" in record["citation"]
    assert record["size_bytes"] == len(workbook) and record["retrieved_at"]
    _only_good_file(landing, workbook)


def test_304_costs_one_request_and_keeps_the_file(
    httpserver: HTTPServer, landing: Path, earlier_good_file: bytes
) -> None:
    def not_modified(request: Request) -> Response:
        assert request.headers.get("If-None-Match") == '"v1"'
        return Response(status=304)

    httpserver.expect_request("/files/totals.xlsx").respond_with_handler(not_modified)
    fetched = download(_source(httpserver), landing, _fast())
    assert not fetched.changed
    assert len(httpserver.log) == 1
    _only_good_file(landing, earlier_good_file)


def test_403_without_a_browser_user_agent(
    httpserver: HTTPServer, landing: Path, workbook: bytes
) -> None:
    def picky(request: Request) -> Response:
        if "Mozilla" not in request.headers.get("User-Agent", ""):
            return Response("Forbidden", status=403)
        return Response(workbook, status=200)

    httpserver.expect_request("/files/totals.xlsx").respond_with_handler(picky)
    plain = requests.get(httpserver.url_for("/files/totals.xlsx"), headers={"User-Agent": "python"})
    assert plain.status_code == 403  # the server refuses clients like plain scripts
    assert download(_source(httpserver), landing, _fast()).changed
    _only_good_file(landing, workbook)


def test_404_names_the_url_and_where_to_put_the_file(
    httpserver: HTTPServer, landing: Path, earlier_good_file: bytes
) -> None:
    httpserver.expect_request("/files/totals.xlsx").respond_with_data("gone", status=404)
    with pytest.raises(FetchError) as raised:
        download(_source(httpserver), landing, _fast())
    message = str(raised.value)
    assert "/files/totals.xlsx answered HTTP 404" in message
    assert f"save it as {landing / NAME}" in message
    _only_good_file(landing, earlier_good_file)


def test_500_then_200_is_retried(httpserver: HTTPServer, landing: Path, workbook: bytes) -> None:
    httpserver.expect_ordered_request("/files/totals.xlsx").respond_with_data("busy", status=500)
    httpserver.expect_ordered_request("/files/totals.xlsx").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/files/totals.xlsx").respond_with_data(workbook)
    assert download(_source(httpserver), landing, _fast()).changed
    assert [entry[1].status_code for entry in httpserver.log] == [500, 503, 200]
    _only_good_file(landing, workbook)


def test_stalled_response_times_out(
    httpserver: HTTPServer, landing: Path, earlier_good_file: bytes
) -> None:
    release = threading.Event()

    def stall(request: Request) -> Response:
        release.wait(30)  # answers only after the client gave up (or much too late)
        return Response(b"late", status=200)

    httpserver.expect_request("/files/totals.xlsx").respond_with_handler(stall)
    try:
        with pytest.raises(FetchError, match=r"/files/totals.xlsx failed \(.*timed out"):
            download(_source(httpserver), landing, session(retries=0), timeout=(1.0, 0.3))
    finally:
        release.set()
    _only_good_file(landing, earlier_good_file)


def test_truncated_body_is_rejected(
    httpserver: HTTPServer, landing: Path, earlier_good_file: bytes, workbook: bytes
) -> None:
    def truncated(request: Request) -> Response:
        response = Response(workbook[: len(workbook) // 2], status=200)
        response.headers["Content-Length"] = str(len(workbook))
        response.automatically_set_content_length = False
        return response

    httpserver.expect_request("/files/totals.xlsx").respond_with_handler(truncated)
    with pytest.raises(FetchError, match=r"truncated|failed mid-download"):
        download(_source(httpserver), landing, session(retries=0))
    _only_good_file(landing, earlier_good_file)


def test_html_page_with_status_200_is_rejected(
    httpserver: HTTPServer, landing: Path, earlier_good_file: bytes
) -> None:
    page = "<!DOCTYPE html><html><body><h1>Access denied</h1></body></html>"
    httpserver.expect_request("/files/totals.xlsx").respond_with_data(
        page, content_type="text/html"
    )
    with pytest.raises(FetchError, match="HTML/XML page, not a spreadsheet"):
        download(_source(httpserver), landing, _fast())
    _only_good_file(landing, earlier_good_file)


def test_oversized_body_is_refused(
    httpserver: HTTPServer, landing: Path, earlier_good_file: bytes, workbook: bytes
) -> None:
    httpserver.expect_request("/files/totals.xlsx").respond_with_data(workbook)
    with pytest.raises(FetchError, match=r"announces 551,092 bytes, over the 100,000 cap"):
        download(_source(httpserver), landing, _fast(), max_bytes=100_000)
    _only_good_file(landing, earlier_good_file)


def test_oversized_stream_without_length_is_cut(
    httpserver: HTTPServer, landing: Path, workbook: bytes
) -> None:
    def chunked(request: Request) -> Response:
        return Response(workbook[i : i + 65536] for i in range(0, len(workbook), 65536))

    httpserver.expect_request("/files/totals.xlsx").respond_with_handler(chunked)
    with pytest.raises(FetchError, match="sent more than 100,000 bytes"):
        download(_source(httpserver), landing, _fast(), max_bytes=100_000)
    _only_good_file(landing, None)


def test_zip_bomb_is_refused(httpserver: HTTPServer, landing: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 50_000_000)  # ~1000:1
    httpserver.expect_request("/files/totals.xlsx").respond_with_data(buffer.getvalue())
    with pytest.raises(FetchError, match="possible zip bomb"):
        download(_source(httpserver), landing, _fast())
    _only_good_file(landing, None)


def test_empty_body_is_rejected(httpserver: HTTPServer, landing: Path) -> None:
    httpserver.expect_request("/files/totals.xlsx").respond_with_data(b"")
    with pytest.raises(FetchError, match="the file is empty"):
        download(_source(httpserver), landing, _fast())
    _only_good_file(landing, None)


def test_a_replaced_local_file_is_not_trusted_for_304(
    httpserver: HTTPServer, landing: Path, earlier_good_file: bytes, workbook: bytes
) -> None:
    """If the file beside the record was changed by hand, no conditional header is sent."""
    (landing / NAME).write_bytes(b"PK\x03\x04 edited by hand")
    seen = []

    def record(request: Request) -> Response:
        seen.append(request.headers.get("If-None-Match"))
        return Response(workbook, status=200)

    httpserver.expect_request("/files/totals.xlsx").respond_with_handler(record)
    assert download(_source(httpserver), landing, _fast()).changed
    assert seen == [None]
    assert _digest(landing / NAME) == hashlib.sha256(workbook).hexdigest()
    assert sidecar_path(landing / NAME).exists()


def test_a_host_that_cannot_be_reached_is_tried_once(
    landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No connection at all (here: refused; likewise a DNS failure) is not retried:
    trying again within seconds cannot help, and a run without network must end fast."""
    import socket

    import urllib3.connection

    attempts = []
    connect = urllib3.connection.HTTPConnection._new_conn

    def counting(self):  # type: ignore[no-untyped-def]
        attempts.append(self.host)
        return connect(self)

    monkeypatch.setattr(urllib3.connection.HTTPConnection, "_new_conn", counting)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = SourceFile(2020, "destination_totals", NAME, f"http://127.0.0.1:{port}/t.xlsx", "x")
    with pytest.raises(FetchError, match="could not be reached") as caught:
        download(source, landing, _fast())
    assert caught.value.unreachable
    assert attempts == ["127.0.0.1"]
