-- POST a valid STK push, each to a different random phone (2547 + 8 digits), so the subscriber
-- lock (one pending push per phone) does not refuse it. Inputs come from bench/run.py:
-- BENCH_TOKEN, BENCH_TIMESTAMP, BENCH_PASSWORD, BENCH_CALLBACK.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local template
function init(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
  template = '{"BusinessShortCode":"174379","Password":"' .. os.getenv("BENCH_PASSWORD") ..
    '","Timestamp":"' .. os.getenv("BENCH_TIMESTAMP") ..
    '","TransactionType":"CustomerPayBillOnline","Amount":1,"PartyA":"%s","PartyB":"174379",' ..
    '"PhoneNumber":"%s","CallBackURL":"' .. os.getenv("BENCH_CALLBACK") ..
    '","AccountReference":"BENCH-1","TransactionDesc":"Benchmark push"}'
  wrk.method = "POST"
  wrk.path = "/mpesa/stkpush/v1/processrequest"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
end

function request()
  local phone = string.format("2547%04d%04d", math.random(0, 9999), math.random(0, 9999))
  return wrk.format(nil, nil, nil, string.format(template, phone, phone))
end
