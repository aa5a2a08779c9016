-- wrk script: a distinct sign-up per request (unique email, nickname and phone per thread).
local counter = 0
setup = function(thread)
  thread:set("tid", math.random(1, 1000000))
end
request = function()
  counter = counter + 1
  local id = string.format("%d-%d", tid, counter)
  local body = string.format('{"email":"b%s@bench.example","password":"Bench1234!","displayName":"b%s","city":"서울","detailAddress":"1","realName":"벤치"}', id, id)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
