"""GraphiQL is served from vendored same-origin assets, never from a CDN."""

from __future__ import annotations

import hashlib
import json
import re

import httpx
from starlette.applications import Starlette

from graph.graphiql import STATIC_DIR, graphiql_html, static_mount

QUERY = "query Me {\n  me { id email }\n}\n"
ASSET_PATH = re.compile(r"/static/graphiql/([^\"'\s]+)")


def _literal_after(html: str, name: str) -> str:
    line = next(ln for ln in html.splitlines() if f"const {name} = " in ln)
    value: str = json.loads(line.split(" = ", 1)[1].rstrip(";"))
    return value


def test_page_references_no_absolute_url() -> None:
    html = graphiql_html(default_query=QUERY)

    assert "http://" not in html
    assert "https://" not in html


def test_every_asset_the_page_references_is_vendored() -> None:
    html = graphiql_html(default_query=QUERY)

    names = ASSET_PATH.findall(html)

    assert set(names) == {
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
        "graphql-ws.min.js",
    }
    for name in names:
        assert (STATIC_DIR / name).is_file(), name


def test_every_vendored_file_is_recorded_with_its_checksum() -> None:
    versions = (STATIC_DIR / "VERSIONS.md").read_text()

    files = [p for p in STATIC_DIR.iterdir() if p.name != "VERSIONS.md"]

    assert files
    for path in files:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert f"`{path.name}`" in versions, path.name
        assert digest in versions, path.name


async def test_static_mount_serves_a_vendored_asset() -> None:
    app = Starlette(routes=[static_mount()])
    transport = httpx.ASGITransport(app=app)

    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/static/graphiql/graphiql.min.js")

    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert response.content == (STATIC_DIR / "graphiql.min.js").read_bytes()


def test_page_embeds_endpoint_and_default_query() -> None:
    html = graphiql_html(endpoint="/api/graphql", default_query=QUERY)

    assert _literal_after(html, "endpoint") == "/api/graphql"
    assert _literal_after(html, "defaultQuery") == QUERY


def test_default_query_cannot_close_the_script_tag() -> None:
    hostile = '# </script><script>alert("x")</script> <!-- <script>\nquery { a }'
    plain = graphiql_html(default_query=QUERY)

    html = graphiql_html(default_query=hostile)

    assert html.lower().count("</script") == plain.lower().count("</script")
    assert "<!--" not in html
    assert _literal_after(html, "defaultQuery") == hostile


def test_placeholder_text_in_a_value_is_not_substituted() -> None:
    html = graphiql_html(endpoint="/@DEFAULT_QUERY@", default_query=QUERY)

    assert _literal_after(html, "endpoint") == "/@DEFAULT_QUERY@"
