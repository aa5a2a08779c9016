-- wrk script: places an order of two random items for a random bench user.
dofile(os.getenv("BENCH_DIR") .. "/users.lua")
request = function()
  local u = users[math.random(#users)]
  local body = string.format('{"city":"서울","detailAddress":"1번지","realName":"벤치","phoneNumber":"010-1234-5678",' ..
    '"orderPostDtoList":[{"itemId":%d,"quantity":%d},{"itemId":%d,"quantity":1,"subscription":true,"period":30}]}',
    math.random(1, nitems), math.random(1, 5), math.random(1, nitems))
  return wrk.format("POST", "/api/orders",
    {["Authorization"] = "Bearer " .. u.token, ["Content-Type"] = "application/json"}, body)
end
