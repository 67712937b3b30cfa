-- post.lua - wrk script of `make bench`: POST the same ~2 KB JSON body on
-- every request, with the API key of the bench user.
--   BENCH_BODY  path of the JSON body file
--   BENCH_KEY   API key (sent as Authorization: Bearer <key>)
--   BENCH_PATH  request path (default /review)
local body_path = os.getenv("BENCH_BODY")
assert(body_path, "BENCH_BODY unset")
local f = assert(io.open(body_path, "rb"))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.path = os.getenv("BENCH_PATH") or "/review"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. assert(os.getenv("BENCH_KEY"), "BENCH_KEY unset")

-- The report line for bench/run.py, beside this file.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")
