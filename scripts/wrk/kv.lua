-- kv.lua: wrk requests against cairn's HTTP API, as scripts/bench-wrk.sh runs them.
-- Each request picks one of RECORDS keys ("user" and a 10-digit index, the keys
-- cairnctl bench loads) uniformly at random; OP is get (a read with the bucket's
-- r) or put (a blind write of VALUE_SIZE bytes with the bucket's w).
local records = tonumber(os.getenv("RECORDS") or "10000")
local op = os.getenv("OP") or "get"
local bucket = os.getenv("BUCKET") or "ycsb"
local size = tonumber(os.getenv("VALUE_SIZE") or "100")
local body = string.rep("v", size)

function setup(thread)
	-- a different sequence per thread and per wrk process
	math.randomseed(os.time() + tonumber(tostring(thread):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
	local path = string.format("/types/default/buckets/%s/keys/user%010d", bucket, math.random(0, records - 1))
	if op == "put" then
		return wrk.format("PUT", path, { ["Content-Type"] = "text/plain" }, body)
	end
	return wrk.format("GET", path)
end

-- done prints one machine-readable line: requests/s, non-2xx answers, socket
-- errors, and the p50 and p99 latency in microseconds.
function done(summary, latency, requests)
	local errs = summary.errors
	io.write(string.format("WRK %f %d %d %d %d\n",
		summary.requests / (summary.duration / 1e6),
		errs.status, errs.connect + errs.read + errs.write + errs.timeout,
		latency:percentile(50), latency:percentile(99)))
end
