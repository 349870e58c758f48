-- POST one GraphQL body over and over and count the answers that failed.
-- Usage: wrk -s bench/graphql.lua URL -- BODY_FILE [ACCESS_TOKEN]
-- A failed answer is a non-2xx status or a JSON body with an "errors" key; done()
-- prints one line, TRACKQL_RESULT {...json...}, that bench/run.py reads.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  wrk.method = "POST"
  wrk.body = file:read("*a")
  file:close()
  wrk.headers["Content-Type"] = "application/json"
  if args[2] ~= nil and args[2] ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. args[2]
  end
  failed = 0
  first_error = ""
end

function response(status, headers, body)
  if status < 200 or status > 299 or string.find(body, '"errors"', 1, true) then
    failed = failed + 1
    if first_error == "" then
      first_error = string.sub(body, 1, 500)
    end
  end
end

local function json_string(text)
  text = string.gsub(text, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. text .. '"'
end

function done(summary, latency, requests)
  local failed_total, sample = 0, ""
  for _, thread in ipairs(threads) do
    failed_total = failed_total + thread:get("failed")
    if sample == "" then
      sample = thread:get("first_error")
    end
  end
  local e = summary.errors
  io.write(string.format(
    'TRACKQL_RESULT {"requests": %d, "duration_us": %d, "p50_us": %.1f, '
      .. '"p99_us": %.1f, "failed": %d, "socket_errors": %d, "sample": %s}\n',
    summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), failed_total, e.connect + e.read + e.write + e.timeout,
    json_string(sample)
  ))
end
