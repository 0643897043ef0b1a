-- GET /healthz: the server's bare answer, the yardstick for the hot path.
package.path = os.getenv("BENCH_DIR") .. "/wrk/?.lua;" .. package.path
require("report")
