-- kv.lua: wrk requests against cairn's HTTP API, as scripts/bench-wrk.sh runs them.
-- Each request picks one of RECORDS keys ("user" and a 10-digit index, the keys
-- cairnctl bench loads) uniformly at random, in bucket BUCKET of type TYPE
-- (default); OP is get (a read with the bucket's r) or put (a blind write of
-- VALUE_SIZE bytes with the bucket's w). With FRESH=1 every put creates a key
-- never written before, as a consistent type needs of a write without a
-- causal context.
local records = tonumber(os.getenv("RECORDS") or "10000")
local op = os.getenv("OP") or "get"
local btype = os.getenv("TYPE") or "default"
local bucket = os.getenv("BUCKET") or "ycsb"
local size = tonumber(os.getenv("VALUE_SIZE") or "100")
local body = string.rep("v", size)
local fresh = os.getenv("FRESH") == "1"
local created = 0

local wrk_id = tonumber(os.getenv("WRK_ID") or "0")

-- setup runs in wrk's main Lua state, once per thread; init and request run
-- in the thread's own state, whose random generator setup cannot seed. So
-- setup draws a seed per thread (distinct across the wrk processes of one
-- run through WRK_ID) and init seeds the thread's generator with it:
-- otherwise every thread of every process would draw the same keys in the
-- same order.
function setup(thread)
	math.randomseed(os.time() * 1000 + wrk_id * 7919 + tonumber(tostring(thread):match("0x(%x+)") or "0", 16) % 100000)
	thread:set("seed", math.random(1, 0x7fffffff))
end

function init(args)
	math.randomseed(seed)
	-- each thread's fresh keys start with a prefix of its own
	prefix = string.format("fresh%d-%08x", wrk_id, math.random(0, 0x7fffffff))
end

function request()
	local path = string.format("/types/%s/buckets/%s/keys/user%010d", btype, bucket, math.random(0, records - 1))
	if op == "put" and fresh then
		created = created + 1
		path = string.format("/types/%s/buckets/%s/keys/%s-%d", btype, bucket, prefix, created)
	end
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
