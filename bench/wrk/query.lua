-- POST a valid STK query for one known CheckoutRequestID. Inputs from bench/run.py:
-- BENCH_TOKEN, BENCH_TIMESTAMP, BENCH_PASSWORD, BENCH_CHECKOUT_ID.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

wrk.method = "POST"
wrk.path = "/mpesa/stkpushquery/v1/query"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.body = '{"BusinessShortCode":"174379","Password":"' .. os.getenv("BENCH_PASSWORD") ..
  '","Timestamp":"' .. os.getenv("BENCH_TIMESTAMP") ..
  '","CheckoutRequestID":"' .. os.getenv("BENCH_CHECKOUT_ID") .. '"}'
