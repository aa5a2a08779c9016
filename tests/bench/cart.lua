-- wrk script: alternately adds a new item to a user's normal cart and reads that cart.
-- Each (user, item) pair is added once: items advance per user, so no add conflicts.
dofile(os.getenv("BENCH_DIR") .. "/users.lua")
local k = 0
offset = 0
setup = function(thread)
  thread:set("offset", math.random(0, 1000000))
end
request = function()
  k = k + 1
  local u = users[1 + (math.floor(k / 2) + offset) % #users]
  local hdr = {["Authorization"] = "Bearer " .. u.token}
  if k % 2 == 1 then
    local cycle = math.floor((math.floor(k / 2) + offset) / #users)
    local item = 1 + (cycle * 7 + offset) % nitems
    return wrk.format("POST", "/api/carts/normal/" .. u.cart .. "?itemId=" .. item .. "&quantity=1", hdr)
  end
  return wrk.format("GET", "/api/carts/normal/" .. u.cart, hdr)
end
