-- GET an access token with HTTP Basic consumer credentials (each call issues a new token).
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

wrk.method = "GET"
wrk.path = "/oauth/v1/generate?grant_type=client_credentials"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC")
