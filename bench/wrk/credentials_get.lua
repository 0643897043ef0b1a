-- POST /v1/credentials/get for a signed-in user: the hot path of DESIGN.md.
-- BENCH_SECRET_KEY, BENCH_PROVIDER and BENCH_USER_ID come from the harness (bench/run).
package.path = os.getenv("BENCH_DIR") .. "/wrk/?.lua;" .. package.path
require("report")

wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_SECRET_KEY")
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"provider":"%s","user_id":"%s","credential_for":"user"}',
  os.getenv("BENCH_PROVIDER"), os.getenv("BENCH_USER_ID"))
