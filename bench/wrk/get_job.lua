-- get_job.lua - wrk script of `make bench`: GET /job/<id> over a list of
-- finished jobs, round-robin (each wrk thread starts at its own offset).
--   BENCH_IDS   file with one job id per line
--   BENCH_KEY   API key of the jobs' owner
local ids = {}
local ids_path = os.getenv("BENCH_IDS")
assert(ids_path, "BENCH_IDS unset")
for line in assert(io.open(ids_path, "r")):lines() do
  if #line > 0 then ids[#ids + 1] = "/job/" .. line end
end
assert(#ids > 0, "no job ids")

wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. assert(os.getenv("BENCH_KEY"), "BENCH_KEY unset")

local n = 0
local thread_no = 0

function setup(thread)
  thread:set("offset", thread_no * 7919)
  thread_no = thread_no + 1
end

function request()
  n = n + 1
  return wrk.format(nil, ids[((n + (offset or 0)) % #ids) + 1])
end

-- The report line for bench/run.py, beside this file.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")
