"""The GraphiQL page, served entirely from vendored same-origin assets."""

from __future__ import annotations

import json
import re
from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

STATIC_DIR: Path = Path(__file__).parent / "static" / "graphiql"
STATIC_PATH = "/static/graphiql"
EXAMPLES_DIR: Path = Path(__file__).parent / "examples"
# The explorer's opening document; docs/examples links here and a test runs it.
TOUR = (EXAMPLES_DIR / "tour.graphql").read_text(encoding="utf-8")

# @NAME@ placeholders rather than str.format: the page is full of JS braces.
_PLACEHOLDER = re.compile(r"@(STATIC|ENDPOINT|DEFAULT_QUERY)@")
_TEMPLATE = """\
<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>trackql · GraphiQL</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="@STATIC@/graphiql.min.css" />
    <style>
      body { margin: 0; }
      #graphiql { height: 100vh; }
    </style>
  </head>
  <body>
    <div id="graphiql">Loading…</div>
    <script src="@STATIC@/react.production.min.js"></script>
    <script src="@STATIC@/react-dom.production.min.js"></script>
    <script src="@STATIC@/graphiql.min.js"></script>
    <script src="@STATIC@/graphql-ws.min.js"></script>
    <script>
      const endpoint = @ENDPOINT@;
      const defaultQuery = @DEFAULT_QUERY@;
      const TOKEN_FIELDS = ["login", "register", "refreshToken"];

      // The Authorization header of the latest operation: what the headers
      // editor held when it was run. Sent as connectionParams on each connect.
      let authorization = null;

      function findAuthorization(headers) {
        const names = Object.keys(headers || {});
        const name = names.find((n) => n.toLowerCase() === "authorization");
        return name === undefined ? null : headers[name];
      }

      function issuedToken(result) {
        const data = (result && result.data) || {};
        for (const field of TOKEN_FIELDS) {
          const token = data[field] && data[field].accessToken;
          if (typeof token === "string") return token;
        }
        return null;
      }

      const wsUrl = new URL(endpoint, window.location.href);
      wsUrl.protocol = wsUrl.protocol === "https:" ? "wss:" : "ws:";

      // The client is lazy: it connects for the first subscription and closes
      // after the last, so a token set in between applies to the next one.
      const baseFetcher = GraphiQL.createFetcher({
        url: endpoint,
        subscriptionUrl: wsUrl.href,
        wsClient: graphqlWs.createClient({
          url: wsUrl.href,
          connectionParams: () =>
            authorization ? { Authorization: authorization } : {},
        }),
      });

      // Passes every result (plain, multipart array or async iterable) to onResult.
      function tapFetcher(fetcher, onResult) {
        return async (params, opts) => {
          authorization = findAuthorization(opts && opts.headers);
          const value = await fetcher(params, opts);
          if (!value || typeof value[Symbol.asyncIterator] !== "function") {
            [].concat(value).forEach(onResult);
            return value;
          }
          const iterator = value[Symbol.asyncIterator]();
          return {
            [Symbol.asyncIterator]() {
              return this;
            },
            async next() {
              const step = await iterator.next();
              if (!step.done) [].concat(step.value).forEach(onResult);
              return step;
            },
            // Forwarded at once, unlike an async generator's, so "stop" is immediate.
            return: (v) =>
              iterator.return
                ? iterator.return(v)
                : Promise.resolve({ done: true, value: v }),
          };
        };
      }

      function App() {
        // Undefined until a token arrives, so GraphiQL restores stored headers.
        const [headers, setHeaders] = React.useState(undefined);
        const fetcher = React.useMemo(
          () =>
            tapFetcher(baseFetcher, (result) => {
              const token = issuedToken(result);
              if (token === null) return;
              const bearer = { Authorization: "Bearer " + token };
              setHeaders(JSON.stringify(bearer, null, 2));
            }),
          [],
        );
        return React.createElement(GraphiQL, {
          fetcher,
          defaultQuery,
          headers,
          isHeadersEditorEnabled: true,
          shouldPersistHeaders: true,
        });
      }

      const root = ReactDOM.createRoot(document.getElementById("graphiql"));
      root.render(React.createElement(App));
    </script>
  </body>
</html>
"""


def graphiql_html(*, endpoint: str = "/graphql", default_query: str) -> str:
    """Render the page for `endpoint`, opening with `default_query`."""
    values = {
        "STATIC": STATIC_PATH,
        "ENDPOINT": _js_string(endpoint),
        "DEFAULT_QUERY": _js_string(default_query),
    }
    # One pass, so a value that happens to contain a placeholder stays as it is.
    return _PLACEHOLDER.sub(lambda match: values[match[1]], _TEMPLATE)


def static_mount() -> Mount:
    """Mount the vendored assets where the page expects them."""
    return Mount(
        STATIC_PATH, app=StaticFiles(directory=STATIC_DIR), name="graphiql-static"
    )


def _js_string(value: str) -> str:
    # JSON is valid JS; escaping every "<" keeps "</script>" and "<!--" from
    # ending or altering the inline script. json.dumps already escapes U+2028/9.
    return json.dumps(value).replace("<", "\\u003c")
