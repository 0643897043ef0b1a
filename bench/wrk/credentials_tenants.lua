-- POST /v1/credentials/get for tenant users seeded by crates/fbgate/examples/seed_credentials.rs:
-- credential i (0 <= i < BENCH_CREDENTIALS) belongs to tenant org_<i % BENCH_TENANTS> and user
-- user_<i>. Each request picks i at random, so fbgate's 1-second row cache rarely helps; with
-- BENCH_HOT=1 every request asks for credential 0 (one hot user, served from that cache).
-- BENCH_SECRET_KEY and BENCH_PROVIDER come from the harness (bench/credentials).
package.path = os.getenv("BENCH_DIR") .. "/wrk/?.lua;" .. package.path
require("report")

local count = tonumber(os.getenv("BENCH_CREDENTIALS"))
local tenants = tonumber(os.getenv("BENCH_TENANTS"))
local provider = os.getenv("BENCH_PROVIDER")
local hot = os.getenv("BENCH_HOT") == "1"

wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_SECRET_KEY")
wrk.headers["Content-Type"] = "application/json"

local function body(i)
  return string.format('{"provider":"%s","tenant_id":"org_%d","user_id":"user_%d","credential_for":"user"}',
    provider, i % tenants, i)
end

if hot then
  -- A fixed body: wrk sends it without calling into Lua, as bench/wrk/credentials_get.lua does.
  wrk.body = body(0)
else
  -- Each wrk thread gets its own random sequence.
  local threads = 0
  function setup(thread)
    threads = threads + 1
    thread:set("thread_number", threads)
  end

  function init(args)
    math.randomseed(os.time() * 1000 + (thread_number or 0) * 7919)
  end

  -- A new body per request (a Lua call per request: wrk itself then spends more CPU, which
  -- shares the machine with fbgate). math.random(m, n) is exact for ranges below 2^31.
  function request()
    return wrk.format(nil, nil, nil, body(math.random(0, count - 1)))
  end
end
