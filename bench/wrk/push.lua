-- POST a valid STK push, each to a different phone, so the subscriber lock (one pending push per
-- phone) never refuses one: 2547 + 8 digits from 20000000 + BENCH_PHONE_BASE (each wrk run gets
-- its own block of 1e6, 60 blocks: below 254799000000, clear of every magic and fault number)
-- + thread block + a counter. Other inputs come from
-- bench/run.py: BENCH_TOKEN, BENCH_TIMESTAMP, BENCH_PASSWORD, BENCH_CALLBACK.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

local threads = 0
function setup(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end

local template, next_phone
function init(args)
  next_phone = 20000000 + tonumber(os.getenv("BENCH_PHONE_BASE") or "0") + thread_id * 500000
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
  local phone = string.format("2547%08d", next_phone)
  next_phone = next_phone + 1
  return wrk.format(nil, nil, nil, string.format(template, phone, phone))
end
