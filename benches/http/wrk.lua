-- wrk script: GET, or POST one form body (FORM_BODY) with one Authorization header (FORM_AUTH)
-- when FORM_BODY is set; counts every answer that is not 200 as an error and prints the
-- latency percentiles (microseconds) for benches/http/run.
local body = os.getenv("FORM_BODY")
if body then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Authorization"] = os.getenv("FORM_AUTH")
end

done = function(summary, latency, requests)
  io.write(string.format("non200 %d\n", summary.errors.status))
  io.write(string.format("latency_us %d %d %d\n",
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
