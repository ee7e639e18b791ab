-- bench/load.sh with LOADGEN=wrk: wrk sends ICR deliveries exactly as the
-- harness sender does (the same headers, a fresh X-ICR-Delivery GUID per
-- request), from a body file and its signature computed beforehand:
--
--   ICR_BODY=file.json ICR_EVENT=credit_transfer ICR_SIGNATURE=sha256=... \
--     wrk -t2 -c64 -d5s --latency -s bench/wrk-icr.lua http://127.0.0.1:PORT/
--
-- wrk is a C load generator that spends far less CPU per request than the
-- harness sender; it shows what the receivers do when the load costs little.

local path = assert(os.getenv("ICR_BODY"), "ICR_BODY: the body file")
local event = assert(os.getenv("ICR_EVENT"), "ICR_EVENT: the event name")
local signature = assert(os.getenv("ICR_SIGNATURE"), "ICR_SIGNATURE: sha256=...")
local file = assert(io.open(path, "rb"))
local body = file:read("*a")
file:close()

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local sent = 0
function request()
  sent = sent + 1
  local guid = string.format("%08x-0000-4000-8000-%012x", thread_id or 0, sent)
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "ICR-Hookshot/bench-wrk",
    ["X-ICR-Event"] = event,
    ["X-ICR-Delivery"] = guid,
    ["X-ICR-Hook-ID"] = "60021",
    ["X-ICR-Hook-Installation-Target-Type"] = "integration",
    ["X-ICR-Hook-Installation-Target-ID"] = "1187",
    ["X-ICR-Signature-256"] = signature,
  }, body)
end
