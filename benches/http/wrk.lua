-- wrk script: POST one form body with one Authorization header, both from the environment
-- (FORM_BODY, FORM_AUTH), and count every answer that is not 200 as an error.
wrk.method = "POST"
wrk.body = os.getenv("FORM_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = os.getenv("FORM_AUTH")

local failed = 0
response = function(status, headers, body)
  if status ~= 200 then
    failed = failed + 1
  end
end

done = function(summary, latency, requests)
  io.write(string.format("non200 %d\n", summary.errors.status))
end
