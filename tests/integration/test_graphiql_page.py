from __future__ import annotations

import httpx


async def test_browser_get_serves_graphiql_without_a_cdn(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/graphql", headers={"accept": "text/html"})
    asset = await client.get("/static/graphiql/graphiql.min.js")

    assert page.status_code == 200
    assert "graphiql.min.js" in page.text
    assert "https://" not in page.text
    assert asset.status_code == 200
